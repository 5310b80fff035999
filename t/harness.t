#!/usr/bin/perl
# Self-tests of t/lib/LightyTest.pm that need no lighttpd binary:
# response parsing, response checks, run_lighttpd with /bin/sh.

use strict;
use warnings;
use Test::More;
use Cwd ();
use LightyTest qw(parse_responses run_lighttpd strip_log_prefix log_messages
                  lighttpd_exe srcdir topdir);

# ------------------------------------------------------------------ paths
ok(-f srcdir() . '/lib/LightyTest.pm', 'srcdir() is t/');
is(topdir(), Cwd::abs_path(srcdir() . '/..'), 'topdir() is the parent of t/');
{
    local $ENV{LIGHTTPD_EXE_PATH};
    is(lighttpd_exe(), topdir() . '/target/release/lighttpd',
       'default binary: target/release/lighttpd below the repository root');
    $ENV{LIGHTTPD_EXE_PATH} = '/some/where/lighttpd';
    is(lighttpd_exe(), '/some/where/lighttpd', 'LIGHTTPD_EXE_PATH overrides');
}

# ------------------------------------------------------------------ parsing
my $CRLF = "\r\n";
sub resp { join($CRLF, @_) }

{
    my $bytes = resp('HTTP/1.1 200 OK', 'Content-Length: 5', 'X-A: 1', 'x-a: 2', '', 'hello')
              . resp('HTTP/1.1 404 Not Found', 'Content-Length: 0', '', '');
    my ($r, $err) = parse_responses($bytes, methods => [qw(GET GET)]);
    is($err, undef, 'two Content-Length responses parse');
    is(scalar @$r, 2, 'two responses');
    is($r->[0]->protocol, 'HTTP/1.1', 'protocol');
    is($r->[0]->status, 200, 'status');
    is($r->[0]->message, 'OK', 'reason phrase');
    is($r->[0]->body, 'hello', 'body by Content-Length');
    is($r->[0]->header('content-length'), '5', 'header names are case-insensitive');
    is($r->[0]->header('X-A'), '1, 2', 'repeated header: values joined with ", "');
    is_deeply([$r->[0]->header_values('x-A')], [1, 2], 'header_values');
    is($r->[0]->header('X-Missing'), undef, 'absent header is undef');
    is($r->[1]->status, 404, 'second response status');
    is($r->[1]->message, 'Not Found', 'second response reason phrase');
    is($r->[1]->body, '', 'empty body');
}
{
    my $bytes = resp('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked', '',
                     '5;ext=1', 'hello', '7', ', world', '0', 'X-Trailer: t', '', '')
              . resp('HTTP/1.1 204 No Content', '', '')
              . resp('HTTP/1.1 304 Not Modified', 'Content-Length: 10', '', '');
    my ($r, $err) = parse_responses($bytes, methods => [qw(GET GET GET)]);
    is($err, undef, 'chunked + 204 + 304 parse');
    is(scalar @$r, 3, 'three responses');
    is($r->[0]->body, 'hello, world', 'chunked body is decoded');
    ok($r->[0]->chunked, 'chunked flag');
    is($r->[0]->trailer('x-trailer'), 't', 'trailer kept');
    is($r->[1]->body, '', '204 has no body');
    is($r->[2]->body, '', '304 has no body despite Content-Length');
}
{
    my $bytes = resp('HTTP/1.1 100 Continue', '', '')
              . resp('HTTP/1.1 200 OK', 'Content-Length: 3', '', 'abc')
              . resp('HTTP/1.1 200 OK', 'Content-Length: 3', '', '');
    my ($r, $err) = parse_responses($bytes, methods => [qw(POST HEAD)]);
    is($err, undef, '1xx + HEAD parse');
    is(scalar @$r, 3, '1xx is a separate response');
    is($r->[0]->status, 100, '100 Continue first');
    is($r->[1]->body, 'abc', 'final response after 100 has its body');
    is($r->[2]->body, '', 'HEAD response has no body');
}
{
    my $bytes = resp('HTTP/1.0 200 OK', 'Content-Type: text/plain', '', "until\r\nclose");
    my ($r, $err) = parse_responses($bytes);
    is($err, undef, 'response without length parses');
    is($r->[0]->body, "until\r\nclose", 'body until close');
    my ($r2, $err2, $inc) = parse_responses($bytes, eof => 0);
    ok($inc, 'without EOF such a response is incomplete');
    is(scalar @$r2, 0, '... and not returned');
}
{
    my ($r, $err) = parse_responses(resp('HTTP/1.1 200 OK', 'Content-Length: 10', '', 'short'));
    like($err, qr/truncated body/, 'short body is reported');
    ($r, $err) = parse_responses("garbage\r\n\r\n");
    like($err, qr/unexpected status line/, 'bad status line is reported');
    ($r, $err) = parse_responses(resp('HTTP/1.1 200 OK', 'Content-Length: 0'));
    like($err, qr/incomplete response header/, 'header without end is reported');
}

# ------------------------------------------------------------------ checks
{
    my ($r) = parse_responses(resp('HTTP/1.1 200 OK', 'Content-Length: 2',
                                   'Content-Type: text/html', '', 'hi'));
    my $resp = $r->[0];
    my $tf = bless {}, 'LightyTest';
    my @f;
    @f = $tf->check_response($resp, { 'HTTP-Protocol' => 'HTTP/1.1', 'HTTP-Status' => 200,
        'HTTP-Message' => 'OK', 'HTTP-Content' => 'hi', 'content-type' => 'text/html',
        '+Content-Length' => '', '-ETag' => '' });
    is_deeply(\@f, [], 'matching expectations pass');
    @f = $tf->check_response($resp, { 'Content-Type' => qr/^text\//, 'HTTP-Content' => qr/^h/ });
    is_deeply(\@f, [], 'qr// expectations');
    @f = $tf->check_response($resp, { 'Content-Type' => '/html$/' });
    is_deeply(\@f, [], "'/regex/' string expectation (lighttpd harness style)");

    my %bad = (
        'protocol'          => { 'HTTP-Protocol' => 'HTTP/1.0' },
        'status'            => { 'HTTP-Status' => 404 },
        'reason'            => { 'HTTP-Message' => 'Okay' },
        'body'              => { 'HTTP-Content' => 'ho' },
        'empty body'        => { '-HTTP-Content' => '' },
        'header value'      => { 'Content-Type' => 'text/plain' },
        'header regex'      => { 'Content-Type' => qr/plain/ },
        'header missing'    => { 'ETag' => 'x' },
        '+header missing'   => { '+ETag' => '' },
        '-header present'   => { '-Content-Length' => '' },
    );
    for my $k (sort keys %bad) {
        @f = $tf->check_response($resp, $bad{$k});
        is(scalar @f, 1, "mismatch detected: $k") or diag explain \@f;
    }
}

# ------------------------------------------------------------------ run_lighttpd
{
    my $r = run_lighttpd(exe => '/bin/sh',
        args => ['-c', 'cat; echo out; echo err >&2; pwd; echo "$LTEST"; exit 3'],
        stdin => "from stdin\n", cwd => '/', env => { LTEST => 'envval' });
    is($r->{exit}, 3, 'run_lighttpd: exit code');
    is($r->{signal}, 0, 'run_lighttpd: no signal');
    is($r->{stdout}, "from stdin\nout\n/\nenvval\n", 'run_lighttpd: stdin, stdout, cwd, env');
    is($r->{stderr}, "err\n", 'run_lighttpd: stderr');
    ok($r->{pid} > 0, 'run_lighttpd: pid');
}
{
    my $r;
    {
        no warnings 'redefine';
        local *LightyTest::_diag = sub { };
        $r = run_lighttpd(exe => '/bin/sh', args => ['-c', 'sleep 30'], timeout => 0.5);
    }
    ok($r->{timed_out}, 'run_lighttpd: timeout is detected');
    is($r->{exit}, undef, 'run_lighttpd: killed process has no exit code');
    is($r->{signal}, 15, 'run_lighttpd: killed by SIGTERM');
}

# ------------------------------------------------------------------ log helpers
{
    my $log = "2026-11-25 10:43:20: (configfile.c.2259) first message\n"
            . "2026-11-25 10:43:21: (server.c.1) second (with parens)\n";
    is(strip_log_prefix($log), "first message\nsecond (with parens)\n", 'strip_log_prefix');
    is_deeply([log_messages($log)], ['first message', 'second (with parens)'], 'log_messages');
}

done_testing();
