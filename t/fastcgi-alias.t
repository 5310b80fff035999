#!/usr/bin/perl
# A FastCGI extension key with check-local under an alias.url (as Debian's
# phpmyadmin setup uses): the script is found in the alias directory, which
# becomes DOCUMENT_ROOT. Expected values are lighttpd 1.4.69's.

use strict;
use warnings;
use Test::More;
use LightyTest qw(responder_socket);

my $sock = responder_socket();

my $tf = LightyTest->new(config => 'fastcgi-alias.conf', env => { FCGI_SOCK => $sock });
ok($tf->start_proc == 0, 'server starts') or do { done_testing(); exit };
my $other = LightyTest::srcdir() . '/docroot/';
my $x = $tf->http_exchange("GET /fa/t.fcgi/more?dump-env HTTP/1.0\r\n\r\n");
my $r = $x->{responses}[0];
my %env = map { split /=/, $_, 2 } grep { /=/ } split /\n/, ($r ? $r->body : '');
is($env{SCRIPT_NAME}, '/fa/t.fcgi', 'SCRIPT_NAME is the URL of the script');
is($env{PATH_INFO}, '/more', 'PATH_INFO the rest');
is($env{SCRIPT_FILENAME}, "${other}t.fcgi", 'SCRIPT_FILENAME in the alias directory');
is($env{DOCUMENT_ROOT}, $other, 'DOCUMENT_ROOT is the alias directory');
ok($tf->handle_http({ REQUEST => ["GET /fa/missing.fcgi HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 404 }] }) == 0,
   'a missing script under the alias is 404');
$tf->stop_proc;
done_testing();
