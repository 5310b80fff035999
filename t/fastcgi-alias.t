#!/usr/bin/perl
# A FastCGI extension key with check-local under an alias.url (as Debian's
# phpmyadmin setup uses): the script is found in the alias directory, which
# becomes DOCUMENT_ROOT. A check-local-disabled prefix key under an alias:
# SCRIPT_FILENAME is the alias's mapping of SCRIPT_NAME, and mod_access,
# listed after mod_fastcgi, looks at SCRIPT_NAME only. Expected values are
# lighttpd 1.4.69's.

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

sub env_of {
    my ($target) = @_;
    my $x = $tf->http_exchange("GET $target HTTP/1.0\r\n\r\n");
    my $r = $x->{responses}[0];
    my %env = map { split /=/, $_, 2 } grep { /=/ } split /\n/, ($r ? $r->body : '');
    return ($r ? $r->code : 0, \%env);
}
my $dir = LightyTest::srcdir() . '/docroot/dir/';
my ($code, $e) = env_of('/fx/sub/more?dump-env');
is($code, 200, 'a check-local-disabled key under an alias runs');
is($e->{SCRIPT_NAME}, '/fx/sub', 'SCRIPT_NAME up to the first slash after the key');
is($e->{SCRIPT_FILENAME}, "${dir}sub", 'SCRIPT_FILENAME: the alias maps SCRIPT_NAME');
is($e->{DOCUMENT_ROOT}, $dir, 'DOCUMENT_ROOT is the alias directory');
is($e->{PATH_TRANSLATED}, "${dir}more", 'PATH_TRANSLATED under the alias directory');
($code, $e) = env_of('/fx/y/plain?dump-env');
is($code, 200, 'mod_access after mod_fastcgi: a path refused whole but not its SCRIPT_NAME runs');
is($e->{SCRIPT_NAME}, '/fx/y', '... with that SCRIPT_NAME');
ok($tf->handle_http({ REQUEST => ["GET /fx/plain/y?dump-env HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 403 }] }) == 0,
   'mod_access after mod_fastcgi: a SCRIPT_NAME it refuses is 403');
ok($tf->handle_http({ REQUEST => ["GET /fy../x?dump-env HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 403 }] }) == 0,
   'a SCRIPT_NAME the alias refuses (.. after a key without a slash) is 403');
$tf->stop_proc;
done_testing();
