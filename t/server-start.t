#!/usr/bin/perl
# Start the server through the harness (systemd-style socket activation on
# fd 3), fetch files, stop it with SIGTERM.
#
# Skipped while LIGHTTPD_RS_NO_HTTP is set (our binary does not serve HTTP
# yet; the Makefile sets it until the HTTP core lands).

use strict;
use warnings;
use Test::More;
use LightyTest qw(srcdir lighttpd_exe slurp_file strip_log_prefix);

plan skip_all => 'LIGHTTPD_RS_NO_HTTP is set: HTTP serving not implemented yet'
    if $ENV{LIGHTTPD_RS_NO_HTTP};
my $EXE = lighttpd_exe();
ok(-x $EXE, "binary under test $EXE is executable (build it or set LIGHTTPD_EXE_PATH)")
    or do { done_testing(); exit };

my $index = slurp_file(srcdir() . '/docroot/index.html');
my $hello = slurp_file(srcdir() . '/docroot/hello.txt');
ok(defined $index && length $index, 't/docroot/index.html exists');
ok(defined $hello && length $hello, 't/docroot/hello.txt exists');

my $tf = LightyTest->new(config => 'server-start.conf');
ok($tf->start_proc == 0, 'server starts with socket activation (LISTEN_PID = own pid)')
    or do { done_testing(); exit };   # diagnostics above
like(strip_log_prefix($tf->server_log), qr/^server started \(lighttpd\/1\.4\.69\)$/m,
     'the server logs "server started (lighttpd/1.4.69)"');
like(strip_log_prefix($tf->server_log),
     qr/^server started .*\nWARNING: unknown config-key: server\.no-such-option \(ignored\)$/m,
     '... then warns about an unknown key, as 1.4.69 does');

my $t;

$t = {
    REQUEST  => [ "GET / HTTP/1.0" ],
    RESPONSE => [ {
        'HTTP-Protocol'  => 'HTTP/1.0',
        'HTTP-Status'    => 200,
        'HTTP-Message'   => 'OK',
        'HTTP-Content'   => $index,
        'Content-Type'   => 'text/html',
        'Content-Length' => length($index),
        'Server'         => 'lighttpd/1.4.69',
        '+Date'          => '',
        '-Transfer-Encoding' => '',
    } ],
};
ok($tf->handle_http($t) == 0, 'GET / (HTTP/1.0) returns index.html');

$t = {
    REQUEST  => [ "GET /hello.txt HTTP/1.1\nHost: localhost\nConnection: close" ],
    RESPONSE => [ {
        'HTTP-Protocol'  => 'HTTP/1.1',
        'HTTP-Status'    => 200,
        'HTTP-Content'   => $hello,
        'Content-Type'   => qr{^text/plain\b},
        'Content-Length' => length($hello),
    } ],
};
ok($tf->handle_http($t) == 0, 'GET /hello.txt (HTTP/1.1) returns the file');

$t = {
    REQUEST  => [ "HEAD /hello.txt HTTP/1.0" ],
    RESPONSE => [ {
        'HTTP-Protocol'  => 'HTTP/1.0',
        'HTTP-Status'    => 200,
        '-HTTP-Content'  => '',
        'Content-Length' => length($hello),
    } ],
};
ok($tf->handle_http($t) == 0, 'HEAD /hello.txt: headers only');

$t = {
    REQUEST  => [ "GET /no-such-file.html HTTP/1.0" ],
    RESPONSE => [ { 'HTTP-Protocol' => 'HTTP/1.0', 'HTTP-Status' => 404 } ],
};
ok($tf->handle_http($t) == 0, 'GET of a missing file: 404');

# two pipelined requests on one connection
$t = {
    REQUEST  => [ "GET /hello.txt HTTP/1.1\nHost: localhost",
                  "GET / HTTP/1.1\nHost: localhost\nConnection: close" ],
    RESPONSE => [
        { 'HTTP-Protocol' => 'HTTP/1.1', 'HTTP-Status' => 200, 'HTTP-Content' => $hello },
        { 'HTTP-Protocol' => 'HTTP/1.1', 'HTTP-Status' => 200, 'HTTP-Content' => $index },
    ],
};
ok($tf->handle_http($t) == 0, 'two pipelined requests, two responses');

# the checks themselves must be able to fail (wrong status, wrong body,
# absent header present, present header absent, missing response)
{
    my @bad = (
        [ 'wrong status', { 'HTTP-Protocol' => 'HTTP/1.0', 'HTTP-Status' => 404 } ],
        [ 'wrong body',   { 'HTTP-Status' => 200, 'HTTP-Content' => "not the body\n" } ],
        [ 'header expected absent', { 'HTTP-Status' => 200, '-Content-Length' => '' } ],
        [ 'header expected present', { 'HTTP-Status' => 200, '+X-No-Such-Header' => '' } ],
        [ 'header regex', { 'HTTP-Status' => 200, 'Content-Type' => qr/^image\// } ],
    );
    for my $b (@bad) {
        my ($what, $exp) = @$b;
        my $r;
        {
            # the expected mismatch diagnostics are noise here
            no warnings 'redefine';
            local *LightyTest::_diag = sub { };
            local *LightyTest::_diag_text = sub { };
            $r = $tf->handle_http({ REQUEST => [ "GET / HTTP/1.0" ], RESPONSE => [ $exp ] });
        }
        is($r, -1, "handle_http detects a mismatch: $what");
    }
    no warnings 'redefine';
    local *LightyTest::_diag = sub { };
    local *LightyTest::_diag_text = sub { };
    is($tf->handle_http({ REQUEST => [ "GET / HTTP/1.0" ],
                          RESPONSE => [ { 'HTTP-Status' => 200 }, { 'HTTP-Status' => 200 } ] }),
       -1, 'handle_http detects a missing response');
}

# stop: wait until the server has closed our connections first (lighttpd
# exits 1 instead of 0 if a connection is still open at SIGTERM)
ok($tf->wait_idle, 'server closed all client connections');
ok($tf->stop_proc == 0, 'server stops on SIGTERM');
is($tf->exit_signal, 0, 'server was not killed by a signal');
is($tf->exit_code, 0, 'server exit code is 0');
my $harness_pid = $$;
like(strip_log_prefix($tf->server_log), qr/^server stopped by UID = \d+ PID = $harness_pid$/m,
     'the server logs "server stopped by UID = .. PID = <harness pid>"');
ok(!$tf->listening_on, 'port is closed after stop');

# socket activation with LISTEN_PID=parent:<ppid> (<ppid> = this test process;
# no wrapper here, whatever LIGHTTPD_TEST_WRAPPER says)
my $tf2 = LightyTest->new(config => 'server-start.conf', listen_pid => 'parent', wrapper => []);
ok($tf2->start_proc == 0, 'server starts with LISTEN_PID=parent:<ppid>');
$t = {
    REQUEST  => [ "GET /hello.txt HTTP/1.0" ],
    RESPONSE => [ { 'HTTP-Protocol' => 'HTTP/1.0', 'HTTP-Status' => 200, 'HTTP-Content' => $hello } ],
};
ok($tf2->handle_http($t) == 0, 'GET /hello.txt with LISTEN_PID=parent:<ppid>');
ok($tf2->wait_idle, 'server closed all client connections');
ok($tf2->stop_proc == 0, 'server stops on SIGTERM');
is($tf2->exit_code, 0, 'server exit code is 0');

done_testing();
