#!/usr/bin/perl
# mod_fastcgi with Python's flup (the seed's "Python FastCGI on lighty with
# flup"): t/backends/hello-flup.py is a WSGI app under flup's WSGIServer.
#  - "/wsgi": an external WSGIServer on a unix socket, started here;
#  - ".py":   the seed's own setup: lighttpd spawns the app through
#             "bin-path" (socket on fd 0), check-local disabled, max-procs 1,
#             with a bin-environment variable; gone after the server stops.
# Expected values are lighttpd 1.4.69's with the same app and config.

use strict;
use warnings;
use Test::More;
use POSIX ();
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep time);
use LightyTest qw(srcdir);

# a python3 that can import flup (Debian bookworm has no python3-flup:
# .ci/run installs flup with pip into the python3 found on PATH)
my $py;
for my $cand ('python3', '/usr/bin/python3') {
    my $exe = `$cand -c 'import sys, flup.server.fcgi; print(sys.executable)' 2>/dev/null`;
    chomp $exe;
    if ($? == 0 && $exe ne '' && -x $exe) { $py = $exe; last }
}
plan skip_all => 'python3 cannot import flup (.ci/run installs it: pip install flup)' unless $py;

my $app = srcdir() . '/backends/hello-flup.py';
my $tmp = tempdir(CLEANUP => 1);
my $sock = "$tmp/flup.sock";

sub alive {     # running, not a zombie
    my ($pid) = @_;
    open(my $fh, '<', "/proc/$pid/stat") or return kill(0, $pid) ? 1 : 0;
    my $st = <$fh> // '';
    return $st =~ /^\d+ \(.*\) ([A-Za-z])/ && $1 ne 'Z' && $1 ne 'X' ? 1 : 0;
}

my $fpid = fork();
die "fork: $!" unless defined $fpid;
if (!$fpid) {
    setpgrp(0, 0);
    open(STDOUT, '>', "$tmp/flup.log");
    open(STDERR, '>&', \*STDOUT);
    exec $py, $app, $sock or POSIX::_exit(127);
}
END {
    if ($fpid) {
        local $?;
        kill 'TERM', -$fpid;
        kill 'TERM', $fpid;
        # flup notices SIGTERM within its 1 s select() timeout
        my $deadline = time() + 5;
        sleep(0.05) while waitpid($fpid, POSIX::WNOHANG()) == 0 && time() < $deadline;
        if (kill 0, $fpid) { kill 'KILL', -$fpid; kill 'KILL', $fpid; waitpid($fpid, 0) }
    }
}
for (1 .. 200) { last if -S $sock; sleep(0.05) }
ok(-S $sock, 'the external flup WSGIServer listens on its unix socket')
    or do { diag(`cat $tmp/flup.log`); done_testing(); exit };

my $tf = LightyTest->new(config => 'flup.conf',
                         env => { FLUP_SOCK => $sock, FLUP_BIN => "$py $app" });
ok($tf->start_proc == 0, 'server starts and spawns the flup app') or do { done_testing(); exit };
my $spawned_sock = $tf->tmpdir . '/fastcgi.python.socket-0';
ok(-S $spawned_sock, 'the spawned proc 0 listens on <socket>-0');

sub body {
    my ($n, $pid, %v) = @_;
    return "Hello World! #$n pid=$pid\n"
        . join('', map { "$_=" . ($v{$_} // '') . "\n" } qw(SCRIPT_NAME PATH_INFO QUERY_STRING REQUEST_METHOD))
        . 'greeting=' . ($v{greeting} // '-') . "\n"
        . 'body=' . ($v{body} // '') . "\n";
}

# --- the external server
my $want = body(1, $fpid, SCRIPT_NAME => '/wsgi', QUERY_STRING => 'a=1', REQUEST_METHOD => 'GET');
ok($tf->handle_http({ REQUEST => ["GET /wsgi?a=1 HTTP/1.0"],
    RESPONSE => [{ 'HTTP-Status' => 200, 'Content-Type' => 'text/plain', 'X-Backend' => 'flup',
                   'Content-Length' => length($want), 'HTTP-Content' => $want }] }) == 0,
   'external WSGIServer: 200, Content-Type, body with QUERY_STRING (no PATH_INFO from lighttpd)');
$want = body(2, $fpid, SCRIPT_NAME => '/wsgi', PATH_INFO => '/foo/bar', QUERY_STRING => 'x=y', REQUEST_METHOD => 'GET');
ok($tf->handle_http({ REQUEST => ["GET /wsgi/foo/bar?x=y HTTP/1.0"],
    RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => $want }] }) == 0,
   'prefix key: SCRIPT_NAME /wsgi and PATH_INFO /foo/bar in the WSGI environ');
$want = body(3, $fpid, SCRIPT_NAME => '/wsgi', PATH_INFO => '/notfound', REQUEST_METHOD => 'GET');
ok($tf->handle_http({ REQUEST => ["GET /wsgi/notfound HTTP/1.0"],
    RESPONSE => [{ 'HTTP-Status' => 404, 'HTTP-Message' => 'Not Found', 'Content-Type' => 'text/plain',
                   'HTTP-Content' => $want }] }) == 0,
   "the app's own 404 status and body are passed on");
$want = body(4, $fpid, SCRIPT_NAME => '/wsgi', PATH_INFO => '/p', REQUEST_METHOD => 'POST', body => 'abcd');
ok($tf->handle_http({ RAW => "POST /wsgi/p HTTP/1.0\r\nContent-Length: 4\r\n\r\nabcd",
    RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => $want }] }) == 0,
   'POST: the body reaches wsgi.input');

# --- the app spawned by lighttpd ("bin-path")
my $x = $tf->http_exchange("GET /hello.py?q=1 HTTP/1.0\r\n\r\n");
my $r = $x->{responses}[0];
my ($spid) = $r ? $r->body =~ /^Hello World! #1 pid=(\d+)$/m : ();
ok($spid && $spid != $fpid, 'bin-path: the first request is the first of a new process')
    or diag($x->{raw});
$spid //= 0;
$want = body(1, $spid, SCRIPT_NAME => '/hello.py', QUERY_STRING => 'q=1', REQUEST_METHOD => 'GET', greeting => 'spawned');
is($r ? $r->status . "\n" . ($r->header('Content-Type') // '') . "\n" . $r->body : '', "200\ntext/plain\n$want",
   'bin-path with check-local disabled: 200, Content-Type, SCRIPT_NAME, QUERY_STRING, bin-environment');
$want = body(2, $spid, SCRIPT_NAME => '/sub/app.py', REQUEST_METHOD => 'GET', greeting => 'spawned');
ok($tf->handle_http({ REQUEST => ["GET /sub/app.py HTTP/1.0"],
    RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => $want }] }) == 0,
   'check-local disabled: any path ending in .py goes to the app, no file needed');
ok($tf->handle_http({ REQUEST => ["GET /hello.py/extra HTTP/1.0"],
    RESPONSE => [{ 'HTTP-Status' => 404, 'Content-Type' => 'text/html' }] }) == 0,
   'an extension key does not match /hello.py/extra without a local hello.py: 404 from lighttpd');
my @exp = map { my $w = body($_ + 2, $spid, SCRIPT_NAME => "/$_.py", REQUEST_METHOD => 'GET', greeting => 'spawned');
                { 'HTTP-Status' => 200, 'Content-Length' => length($w), 'HTTP-Content' => $w } } 1 .. 3;
ok($tf->handle_http({ REQUEST => ["GET /1.py HTTP/1.1\nHost: a", "GET /2.py HTTP/1.1\nHost: a",
                                  "GET /3.py HTTP/1.1\nHost: a\nConnection: close"], RESPONSE => \@exp }) == 0,
   'three keep-alive requests, all served by the one spawned process (max-procs 1)');
ok($tf->handle_http({ REQUEST => ["GET /wsgi HTTP/1.0"],
    RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => body(5, $fpid, SCRIPT_NAME => '/wsgi', REQUEST_METHOD => 'GET') }] }) == 0,
   'the external server is still the one behind /wsgi');

# SIGTERM to lighttpd alone (stop_proc would also clean up its process
# group): lighttpd itself must send the spawned app its kill-signal
kill 'TERM', $tf->pid;
my $deadline = time() + 5;
sleep(0.05) while $spid && alive($spid) && time() < $deadline;
my $gone = $spid && !alive($spid);
$tf->stop_proc;
ok($gone, 'lighttpd terminates the flup process it spawned when it stops');
ok(!-e $spawned_sock, 'its socket is removed');
ok(alive($fpid) && -S $sock, 'the external server and its socket are left alone');
done_testing();
