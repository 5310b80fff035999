#!/usr/bin/perl
# mod_fastcgi with a real libfcgi program: t/backends/hello.c (the seed's "C
# FastCGI skeleton", an FCGI_Accept loop with fcgi_stdio.h) is compiled here
# with `cc ... -lfcgi` and run by `spawn-fcgi -n -s <socket>` as an external
# backend ("socket" in fastcgi.server). The program counts its requests, so
# the numbers in the bodies show that one long-lived process served them all.
# Expected values are lighttpd 1.4.69's with the same program and config.

use strict;
use warnings;
use Test::More;
use POSIX ();
use File::Temp qw(tempdir);
use LightyTest qw(srcdir strip_log_prefix);

sub which { my ($p) = @_; for (split /:/, $ENV{PATH} // '') { return "$_/$p" if -x "$_/$p" } return }

my $cc = $ENV{CC} // 'cc';
plan skip_all => "no C compiler ($cc) to build t/backends/hello.c" unless which($cc) || -x $cc;
plan skip_all => 'fcgi_stdio.h not found: install libfcgi-dev (.ci/run installs it)'
    unless system("echo '#include <fcgi_stdio.h>' | $cc -E -x c - >/dev/null 2>&1") == 0;
my $spawn = which('spawn-fcgi');
plan skip_all => 'spawn-fcgi is not installed (.ci/run installs it)' unless $spawn;

my $tmp = tempdir(CLEANUP => 1);
my $bin = "$tmp/hello";
my $sock = "$tmp/hello.sock";
my $rc = do {
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        open(STDOUT, '>', "$tmp/cc.log");
        open(STDERR, '>&', \*STDOUT);
        exec $cc, '-O2', '-Wall', '-o', $bin, srcdir() . '/backends/hello.c', '-lfcgi' or POSIX::_exit(127);
    }
    waitpid($pid, 0);
    $?;
};
ok($rc == 0 && -x $bin, 'hello.c compiles and links with -lfcgi')
    or do { diag(`cat $tmp/cc.log`); done_testing(); exit };

# spawn-fcgi -n binds the socket, puts it on fd 0 and execs the program in
# its place: $bpid is the FastCGI program itself. Its own process group, so
# that the END block can take down anything it started.
my $bpid = fork();
die "fork: $!" unless defined $bpid;
if (!$bpid) {
    setpgrp(0, 0);
    open(STDOUT, '>', "$tmp/spawn.log");
    open(STDERR, '>&', \*STDOUT);
    exec $spawn, '-n', '-s', $sock, '--', $bin or POSIX::_exit(127);
}
END {
    if ($bpid) {
        local $?;
        kill 'TERM', -$bpid;
        kill 'TERM', $bpid;
        waitpid($bpid, 0);
    }
}
for (1 .. 100) { last if -S $sock; select(undef, undef, undef, 0.05) }
ok(-S $sock, 'spawn-fcgi put the program on its unix socket')
    or do { diag(`cat $tmp/spawn.log`); done_testing(); exit };

my $tf = LightyTest->new(config => 'spawn-fcgi.conf', env => { FCGI_SOCK => $sock });
ok($tf->start_proc == 0, 'server starts') or do { done_testing(); exit };

my $docroot = srcdir() . '/docroot-backends';
my $n = 0;      # requests the program has served so far
sub hello {
    my (%v) = @_;
    $n++;
    return "hello from C #$n\n"
        . join('', map { "$_=" . ($v{$_} // '-') . "\n" }
               qw(SCRIPT_NAME PATH_INFO QUERY_STRING REQUEST_METHOD REQUEST_URI SCRIPT_FILENAME))
        . 'body=' . ($v{body} // '') . "\n";
}

my $want = hello(SCRIPT_NAME => '/hello.fcgi', QUERY_STRING => 'a=1&b=2', REQUEST_METHOD => 'GET',
                 REQUEST_URI => '/hello.fcgi?a=1&b=2', SCRIPT_FILENAME => "$docroot/hello.fcgi");
my $t = { REQUEST => ["GET /hello.fcgi?a=1&b=2 HTTP/1.0"],
          RESPONSE => [{ 'HTTP-Protocol' => 'HTTP/1.0', 'HTTP-Status' => 200, 'Content-Type' => 'text/plain',
                         'X-Backend' => 'hello.c', 'Content-Length' => length($want),
                         'Connection' => 'close', '-Transfer-Encoding' => '', 'HTTP-Content' => $want }] };
ok($tf->handle_http($t) == 0, 'extension key: status, headers and body from the program, with Content-Length');
like($t->{responses}[0] ? $t->{responses}[0]->raw_header : '', qr/\r\nContent-type: text\/plain\r\n/,
     "the program's header is passed on as it wrote it (Content-type)");

$want = hello(SCRIPT_NAME => '/hello.fcgi', PATH_INFO => '/extra/x', QUERY_STRING => '', REQUEST_METHOD => 'GET',
              REQUEST_URI => '/hello.fcgi/extra/x', SCRIPT_FILENAME => "$docroot/hello.fcgi");
ok($tf->handle_http({ REQUEST => ["GET /hello.fcgi/extra/x HTTP/1.0"],
    RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => $want }] }) == 0,
   'extension key with check-local: the core splits PATH_INFO off the existing file');

ok($tf->handle_http({ REQUEST => ["GET /missing.fcgi HTTP/1.0"],
    RESPONSE => [{ 'HTTP-Status' => 404, 'Content-Type' => 'text/html', 'HTTP-Content' => qr/404 Not Found/ }] }) == 0,
   'extension key with check-local: a missing file is 404 and never reaches the program');

$want = hello(SCRIPT_NAME => '/app', QUERY_STRING => '', REQUEST_METHOD => 'GET',
              REQUEST_URI => '/app', SCRIPT_FILENAME => "$docroot/app");
ok($tf->handle_http({ REQUEST => ["GET /app HTTP/1.0"],
    RESPONSE => [{ 'HTTP-Status' => 200, 'X-Backend' => 'hello.c', 'HTTP-Content' => $want }] }) == 0,
   'prefix key, check-local disabled: SCRIPT_NAME is the prefix, no PATH_INFO, the file need not exist');

$want = hello(SCRIPT_NAME => '/app', PATH_INFO => '/foo/bar', QUERY_STRING => 'q', REQUEST_METHOD => 'GET',
              REQUEST_URI => '/app/foo/bar?q', SCRIPT_FILENAME => "$docroot/app");
ok($tf->handle_http({ REQUEST => ["GET /app/foo/bar?q HTTP/1.0"],
    RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => $want }] }) == 0,
   'prefix key: the rest of the path is PATH_INFO, the query is QUERY_STRING');

$want = hello(SCRIPT_NAME => '/appX', PATH_INFO => '/y', QUERY_STRING => '', REQUEST_METHOD => 'GET',
              REQUEST_URI => '/appX/y', SCRIPT_FILENAME => "$docroot/appX");
ok($tf->handle_http({ REQUEST => ["GET /appX/y HTTP/1.0"],
    RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => $want }] }) == 0,
   'a prefix key is a byte prefix, not a path segment: /appX/y splits at the next slash');

$want = hello(SCRIPT_NAME => '/app', PATH_INFO => '/post', QUERY_STRING => '', REQUEST_METHOD => 'POST',
              REQUEST_URI => '/app/post', SCRIPT_FILENAME => "$docroot/app", body => 'hello');
ok($tf->handle_http({ RAW => "POST /app/post HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello",
    RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => $want }] }) == 0,
   'POST: the request body reaches the program on stdin');

$want = hello(SCRIPT_NAME => '/app', QUERY_STRING => 'status', REQUEST_METHOD => 'GET',
              REQUEST_URI => '/app?status', SCRIPT_FILENAME => "$docroot/app");
ok($tf->handle_http({ REQUEST => ["GET /app?status HTTP/1.0"],
    RESPONSE => [{ 'HTTP-Status' => 201, 'HTTP-Message' => 'Created', '-Status' => '', 'HTTP-Content' => $want }] }) == 0,
   "the program's Status: header sets the response status and is not passed on");

$n++;
ok($tf->handle_http({ REQUEST => ["GET /app?redirect HTTP/1.0"],
    RESPONSE => [{ 'HTTP-Status' => 302, 'Location' => '/elsewhere', 'Content-Length' => 0, '-HTTP-Content' => '' }] }) == 0,
   'Location: without Status: is a 302 to the client');

$want = hello(SCRIPT_NAME => '/app', QUERY_STRING => 'stderr', REQUEST_METHOD => 'GET',
              REQUEST_URI => '/app?stderr', SCRIPT_FILENAME => "$docroot/app");
ok($tf->handle_http({ REQUEST => ["GET /app?stderr HTTP/1.0"],
    RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => $want }] }) == 0,
   'a request whose program writes to FCGI_stderr still gets its body');
like(strip_log_prefix($tf->error_log), qr/^FastCGI-stderr:hello\.c says hello on stderr$/m,
     "the program's stderr line is in the error log as FastCGI-stderr:<line>");

# keep-alive: three pipelined requests on one client connection, each one a
# new FastCGI connection to the same process (the counter goes on)
my @exp;
for my $i (1 .. 3) {
    my $w = hello(SCRIPT_NAME => '/app', PATH_INFO => "/$i", QUERY_STRING => '', REQUEST_METHOD => 'GET',
                  REQUEST_URI => "/app/$i", SCRIPT_FILENAME => "$docroot/app");
    push @exp, { 'HTTP-Protocol' => 'HTTP/1.1', 'HTTP-Status' => 200, 'Content-Length' => length($w),
                 'HTTP-Content' => $w, ($i < 3 ? ('-Connection' => '') : ('Connection' => 'close')) };
}
ok($tf->handle_http({ REQUEST => ["GET /app/1 HTTP/1.1\nHost: a", "GET /app/2 HTTP/1.1\nHost: a",
                                  "GET /app/3 HTTP/1.1\nHost: a\nConnection: close"],
                      RESPONSE => \@exp }) == 0,
   'three keep-alive requests on one connection, served in order by the one program (counter goes on)');

# and on separate connections again
for my $i (1 .. 2) {
    $want = hello(SCRIPT_NAME => '/hello.fcgi', QUERY_STRING => "again=$i", REQUEST_METHOD => 'GET',
                  REQUEST_URI => "/hello.fcgi?again=$i", SCRIPT_FILENAME => "$docroot/hello.fcgi");
    ok($tf->handle_http({ REQUEST => ["GET /hello.fcgi?again=$i HTTP/1.0"],
        RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => $want }] }) == 0,
       "new connection $i: still the same process, its request number $n");
}

ok(kill(0, $bpid), 'the program is still running (lighttpd does not own it)');
$tf->stop_proc;
ok(kill(0, $bpid) && -S $sock, 'stopping lighttpd leaves the external backend and its socket alone');
done_testing();
