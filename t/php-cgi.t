#!/usr/bin/perl
# mod_fastcgi starting php-cgi itself (bin-path): the listening socket is
# handed to php-cgi as fd 0 (socket-N per proc), PHP runs the script, and
# the children are gone after the server stops. Same results as lighttpd
# 1.4.69 with the same config.

use strict;
use warnings;
use Test::More;
use LightyTest;

my $php = '/usr/bin/php-cgi';
plan skip_all => 'php-cgi is not installed (.ci/run installs it)' unless -x $php;

my $tf = LightyTest->new(config => 'php-cgi.conf', env => { PHP_CGI => $php });
ok($tf->start_proc == 0, 'server starts and spawns php-cgi') or do { done_testing(); exit };
my $sock = $tf->tmpdir . '/php.socket-0';
ok(-S $sock, 'proc 0 listens on socket-0');

my $want = 'hello from php cgi-fcgi path_info=/x body=q';
ok($tf->handle_http({ REQUEST => ["POST /hello.php/x HTTP/1.0\nContent-Length: 1\n\nq"],
    RESPONSE => [{ 'HTTP-Status' => 200, 'X-Php' => 'yes', 'Content-Length' => length($want), 'HTTP-Content' => $want }] }) == 0,
   'php-cgi runs the script with PATH_INFO and the body');
ok($tf->handle_http({ REQUEST => ["GET /hello.php HTTP/1.0"],
    RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => 'hello from php cgi-fcgi path_info=- body=' }] }) == 0,
   'a second request');
$tf->stop_proc;
select(undef, undef, undef, 0.3);
ok(!-e $sock, 'the socket is removed at shutdown');
done_testing();
