#!/usr/bin/perl
# mod_fastcgi with a real backend: php-fpm on a unix socket, used as an
# external backend (as Debian's 15-fastcgi-php-fpm.conf does). Expected
# values are lighttpd 1.4.69's with the same php-fpm.

use strict;
use warnings;
use Test::More;
use POSIX ();
use File::Temp qw(tempdir);
use LightyTest;

my ($fpm) = grep { -x } map { glob $_ } '/usr/sbin/php-fpm*';
plan skip_all => 'php-fpm is not installed (.ci/run installs it)' unless $fpm;

my $tmp = tempdir(CLEANUP => 1);
my $sock = "$tmp/fpm.sock";
open(my $fh, '>', "$tmp/fpm.conf") or die;
print $fh "[global]\npid = $tmp/fpm.pid\nerror_log = $tmp/fpm.log\ndaemonize = no\n"
        . "[www]\nlisten = $sock\nuser = root\ngroup = root\npm = static\npm.max_children = 2\n";
close $fh;
my $fpid = fork();
die "fork: $!" unless defined $fpid;
if (!$fpid) {
    open(STDOUT, '>', '/dev/null');
    open(STDERR, '>', '/dev/null');
    exec $fpm, '-F', '-R', '-y', "$tmp/fpm.conf" or POSIX::_exit(127);
}
END { if ($fpid) { kill 'TERM', $fpid; waitpid($fpid, 0) } }
for (1 .. 100) { last if -S $sock; select(undef, undef, undef, 0.05) }
ok(-S $sock, 'php-fpm listens') or do { done_testing(); exit };

my $tf = LightyTest->new(config => 'php-fpm.conf', env => { FPM_SOCK => $sock });
ok($tf->start_proc == 0, 'server starts') or do { done_testing(); exit };

my $want = 'hello from php fpm-fcgi path_info=- body=';
ok($tf->handle_http({ REQUEST => ["GET /hello.php HTTP/1.0"],
    RESPONSE => [{ 'HTTP-Status' => 200, 'X-Php' => 'yes', 'Content-Type' => 'text/html; charset=UTF-8',
                   'Content-Length' => length($want), 'HTTP-Content' => $want }] }) == 0,
   'GET a PHP script: its headers and body, with Content-Length');
ok($tf->handle_http({ REQUEST => ["POST /hello.php/extra HTTP/1.0\nContent-Length: 3\n\nabc"],
    RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => 'hello from php fpm-fcgi path_info=/extra body=abc' }] }) == 0,
   'POST with PATH_INFO: the body and PATH_INFO reach PHP');
ok($tf->handle_http({ REQUEST => ["GET / HTTP/1.0"],
    RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => $want }] }) == 0,
   'index-file.names hello.php is run by PHP');
ok($tf->handle_http({ REQUEST => ["GET /missing.php HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 404 }] }) == 0,
   'a missing script is 404 (check-local)');
ok($tf->handle_http({ REQUEST => ["GET /hello.php HTTP/1.1\nHost: a", "GET /hello.php HTTP/1.1\nHost: a\nConnection: close"],
    RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => $want }, { 'HTTP-Status' => 200, 'HTTP-Content' => $want }] }) == 0,
   'two pipelined PHP requests on one keep-alive connection');
$tf->stop_proc;
done_testing();
