#!/usr/bin/perl
# The HTTP/1.1 core on the wire (http-core.md): static files, keep-alive
# and pipelining, directories, index files, error pages, ranges,
# conditional requests, malformed requests. Expected values are lighttpd
# 1.4.69's (checked against the reference binary).

use strict;
use warnings;
use Test::More;
use LightyTest qw(srcdir lighttpd_exe slurp_file strip_log_prefix);

plan skip_all => 'LIGHTTPD_RS_NO_HTTP is set: HTTP serving not implemented yet'
    if $ENV{LIGHTTPD_RS_NO_HTTP};

my $hello = slurp_file(srcdir() . '/docroot/hello.txt');
my $big   = slurp_file(srcdir() . '/docroot/big.txt');
my $tf = LightyTest->new(config => 'http-core.conf');
ok($tf->start_proc == 0, 'server starts') or do { done_testing(); exit };

sub t_ok { my ($t, $name) = @_; ok($tf->handle_http($t) == 0, $name) }
my $page404 = qr{^<\?xml version="1.0" encoding="iso-8859-1"\?>\n.*<title>404 Not Found</title>.*</html>\n$}s;

t_ok({ REQUEST => ["GET /hello.txt HTTP/1.0"],
       RESPONSE => [{ 'HTTP-Protocol' => 'HTTP/1.0', 'HTTP-Status' => 200, 'HTTP-Content' => $hello,
                      'Content-Type' => 'text/plain', 'Content-Length' => length($hello),
                      '+ETag' => '', '+Last-Modified' => '', '-Accept-Ranges' => '',
                      'Server' => 'lighttpd-rs-test', 'Connection' => 'close' }] },
     'HTTP/1.0 GET: file, validators, no Accept-Ranges, Connection: close');

t_ok({ REQUEST => ["GET /hello.txt HTTP/1.1\nHost: a\nConnection: close"],
       RESPONSE => [{ 'HTTP-Protocol' => 'HTTP/1.1', 'HTTP-Status' => 200, 'Accept-Ranges' => 'bytes' }] },
     'HTTP/1.1 GET: Accept-Ranges: bytes');

t_ok({ REQUEST => ["GET /missing HTTP/1.1\nHost: a\nConnection: close"],
       RESPONSE => [{ 'HTTP-Status' => 404, 'Content-Type' => 'text/html', 'Content-Length' => 341,
                      'HTTP-Content' => $page404 }] },
     '404 with the built-in page (341 bytes)');

t_ok({ REQUEST => ["GET /secret.php HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 403 }] },
     'excluded extension: 403');
t_ok({ REQUEST => ["GET /x.inc HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 403 }] },
     'url.access-deny suffix: 403 (before the file check)');
t_ok({ REQUEST => ["GET /HELLO.TXT HTTP/1.0\nHost: lc-deny"], RESPONSE => [{ 'HTTP-Status' => 403 }] },
     'force-lowercase-filenames: an access-deny suffix matches in any case (the file exists lower-cased)');
t_ok({ REQUEST => ["GET /hello.txt HTTP/1.0\nHost: allow-only"],
       RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => $hello }] },
     'url.access-allow: a listed suffix is served');
t_ok({ REQUEST => ["GET /x.inc HTTP/1.0\nHost: allow-only"], RESPONSE => [{ 'HTTP-Status' => 403 }] },
     'url.access-allow: anything else is refused');
t_ok({ REQUEST => ["GET / HTTP/1.0\nHost: allow-only"], RESPONSE => [{ 'HTTP-Status' => 403 }] },
     'url.access-allow: the index of / is refused too (the URL path is checked)');
like(strip_log_prefix($tf->error_log),
     qr{^url denied as failed to match any from access_allow /x\.inc$}m,
     'debug.log-request-handling says why access-allow refused');
t_ok({ REQUEST => ["GET /hello.txt/extra HTTP/1.0\nHost: lc-deny"], RESPONSE => [{ 'HTTP-Status' => 403 }] },
     'url.access-deny: also on the URL path without PATH_INFO (/hello.txt/extra is /hello.txt)');
t_ok({ REQUEST => ["GET / HTTP/1.0\nHost: deny-html"], RESPONSE => [{ 'HTTP-Status' => 403 }] },
     '... and on the index file\'s URL path (/ is /index.html)');
t_ok({ REQUEST => ["GET /dir/ HTTP/1.0\nHost: deny-html"], RESPONSE => [{ 'HTTP-Status' => 200 }] },
     '... a directory listed has no other URL path');

t_ok({ REQUEST => ["GET /sub HTTP/1.0"],
       RESPONSE => [{ 'HTTP-Status' => 301, 'Location' => '/sub/', 'Content-Length' => 0 }] },
     'directory without slash: 301 to the slash URL');
t_ok({ REQUEST => ["GET /sub?x=1 HTTP/1.0"],
       RESPONSE => [{ 'HTTP-Status' => 301, 'Location' => '/sub/?x=1' }] },
     '301 keeps the query');
t_ok({ REQUEST => ["GET /sub/ HTTP/1.0"],
       RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => "<html>sub index</html>\n",
                      'Server' => 'sub-tag' }] },
     'index file served; a conditional block sets server.tag');
t_ok({ REQUEST => ["GET / HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 200, 'Content-Type' => 'text/html' }] },
     'GET / serves index.html');
t_ok({ REQUEST => ["GET /dir/ HTTP/1.0"],
       RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => qr{Index of /dir/.*file\.txt}s }] },
     'dir-listing enabled by a conditional');

t_ok({ REQUEST => ["GET /hello.txt/extra HTTP/1.0"],
       RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => $hello }] },
     'PATH_INFO after a file: the file is served');

t_ok({ REQUEST => ["OPTIONS * HTTP/1.1\nHost: a\nConnection: close"],
       RESPONSE => [{ 'HTTP-Status' => 200, 'Allow' => 'OPTIONS, GET, HEAD, POST', 'Content-Length' => 0 }] },
     'OPTIONS *');
t_ok({ REQUEST => ["DELETE /hello.txt HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 501, '-Allow' => '' }] },
     'DELETE on a static file: 501');
t_ok({ REQUEST => ["HEAD /hello.txt HTTP/1.0"],
       RESPONSE => [{ 'HTTP-Status' => 200, '-HTTP-Content' => '', 'Content-Length' => length($hello) }] },
     'HEAD keeps Content-Length, no body');

# keep-alive and pipelining, max-keep-alive-requests = 3
t_ok({ REQUEST => ["GET /hello.txt HTTP/1.1\nHost: a", "GET /hello.txt HTTP/1.1\nHost: a",
                   "GET /hello.txt HTTP/1.1\nHost: a", "GET /hello.txt HTTP/1.1\nHost: a"],
       RESPONSE => [{ 'HTTP-Status' => 200, '-Connection' => '' }, { 'HTTP-Status' => 200, '-Connection' => '' },
                    { 'HTTP-Status' => 200, '-Connection' => '' }, { 'HTTP-Status' => 200, 'Connection' => 'close' }],
       ALLOW_EXTRA => 0 },
     'pipelined requests answered in order; the 4th response closes (limit 3)');
t_ok({ REQUEST => ["GET /hello.txt HTTP/1.0\nConnection: keep-alive", "GET /hello.txt HTTP/1.0"],
       RESPONSE => [{ 'HTTP-Status' => 200, 'Connection' => 'keep-alive' }, { 'HTTP-Status' => 200, 'Connection' => 'close' }] },
     'HTTP/1.0 keep-alive on request');

# ranges and conditional requests
t_ok({ REQUEST => ["GET /big.txt HTTP/1.1\nHost: a\nRange: bytes=0-4\nConnection: close"],
       RESPONSE => [{ 'HTTP-Status' => 206, 'Content-Range' => 'bytes 0-4/' . length($big),
                      'HTTP-Content' => substr($big, 0, 5), 'Content-Length' => 5 }] },
     'single range: 206');
t_ok({ REQUEST => ["GET /big.txt HTTP/1.1\nHost: a\nRange: bytes=-3\nConnection: close"],
       RESPONSE => [{ 'HTTP-Status' => 206, 'HTTP-Content' => substr($big, -3) }] },
     'suffix range');
t_ok({ REQUEST => ["GET /big.txt HTTP/1.1\nHost: a\nRange: bytes=0-1,1000-1001\nConnection: close"],
       RESPONSE => [{ 'HTTP-Status' => 206, 'Content-Type' => 'multipart/byteranges; boundary=fkj49sn38dcn3',
                      '-Content-Range' => '',
                      'HTTP-Content' => "--fkj49sn38dcn3\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/"
                          . length($big) . "\r\n\r\n" . substr($big, 0, 2)
                          . "\r\n--fkj49sn38dcn3\r\nContent-Type: text/plain\r\nContent-Range: bytes 1000-1001/"
                          . length($big) . "\r\n\r\n" . substr($big, 1000, 2) . "\r\n--fkj49sn38dcn3--\r\n" }] },
     'two distant ranges: multipart/byteranges');
t_ok({ REQUEST => ["GET /big.txt HTTP/1.1\nHost: a\nRange: bytes=99999-\nConnection: close"],
       RESPONSE => [{ 'HTTP-Status' => 416, '-Content-Range' => '', 'Content-Length' => 365 }] },
     'unsatisfiable range: 416 with the error page');
t_ok({ REQUEST => ["GET /big.txt HTTP/1.0\nRange: bytes=0-4"],
       RESPONSE => [{ 'HTTP-Status' => 200, 'Content-Length' => length($big) }] },
     'Range ignored on HTTP/1.0');

my $x = $tf->http_exchange("GET /hello.txt HTTP/1.0\r\n\r\n");
my ($etag, $lm) = ($x->{responses}[0]->header('ETag'), $x->{responses}[0]->header('Last-Modified'));
ok(defined $etag && $etag =~ /^"\d+"$/, "ETag is a quoted decimal ($etag)");
t_ok({ REQUEST => ["GET /hello.txt HTTP/1.0\nIf-None-Match: $etag"],
       RESPONSE => [{ 'HTTP-Status' => 304, '-Content-Length' => '', '-HTTP-Content' => '', 'ETag' => $etag }] },
     'If-None-Match: 304 without Content-Length');
t_ok({ REQUEST => ["GET /hello.txt HTTP/1.0\nIf-Modified-Since: $lm"], RESPONSE => [{ 'HTTP-Status' => 304 }] },
     'If-Modified-Since equal to Last-Modified: 304');
t_ok({ REQUEST => ["POST /hello.txt HTTP/1.0\nContent-Length: 0\nIf-None-Match: $etag"],
       RESPONSE => [{ 'HTTP-Status' => 412 }] },
     'If-None-Match match on POST: 412');

# malformed requests
t_ok({ REQUEST => ["GET / HTTP/1.1"], RESPONSE => [{ 'HTTP-Status' => 400, 'Connection' => 'close' }] },
     'HTTP/1.1 without Host: 400 + close');
t_ok({ REQUEST => ["GET / HTTP/2.0"], RESPONSE => [{ 'HTTP-Status' => 505, 'Content-Length' => 375 }] },
     'HTTP/2.0 request line: 505');
t_ok({ REQUEST => ["get / HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 501 }] }, 'unknown method: 501');
t_ok({ REQUEST => ["GET / HTTP/1.0\nX-Long: " . ('a' x 9000)],
       RESPONSE => [{ 'HTTP-Protocol' => 'HTTP/1.0', 'HTTP-Status' => 431, 'Content-Length' => 385 }] },
     'oversized header block: 431');
t_ok({ REQUEST => ["POST /hello.txt HTTP/1.1\nHost: a"], RESPONSE => [{ 'HTTP-Status' => 411 }] },
     'POST without a length: 411');
like(strip_log_prefix($tf->server_log), qr/^oversized request-header -> sending Status 431$/m,
     '431 is logged');

# A file created right after a 404 for it is served at once: a failed
# stat is not cached, not even for the rest of its second (lighttpd keeps
# no entry for it either). Starts early in a second so that both requests
# fall into the same one.
{
    require Time::HiRes;
    my $root = $tf->tmpdir . '/www';
    mkdir $root;
    my $frac = Time::HiRes::time() - int(Time::HiRes::time());
    Time::HiRes::sleep(1.05 - $frac) if $frac > 0.5;
    t_ok({ REQUEST => ["GET /late.txt HTTP/1.0\nHost: tmp-root"], RESPONSE => [{ 'HTTP-Status' => 404 }] },
         'a file not there yet: 404');
    open(my $fh, '>', "$root/late.txt") or die "$root/late.txt: $!";
    print $fh "late\n";
    close $fh;
    t_ok({ REQUEST => ["GET /late.txt HTTP/1.0\nHost: tmp-root"],
           RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => "late\n" }] },
         '... served as soon as it is created');
}

# File names that are not UTF-8 (Latin-1 here) are bytes to lighttpd:
# /caf%e9 is the file "caf\xe9", the directory redirect and the listing
# write the byte back as %E9, and the trace shows it as \xe9.
{
    my $root = $tf->tmpdir . '/www';
    my ($file, $dir) = ("caf\xe9", "d\xe9");
    mkdir "$root/$dir" or die "$root/$dir: $!";
    for (["$root/$file", "latin\n"], ["$root/$dir/f\xe9", "in\n"]) {
        open(my $fh, '>', $_->[0]) or die "$_->[0]: $!";
        print $fh $_->[1];
        close $fh;
    }
    for my $t ('/caf%e9', '/caf%E9', "/caf\xe9") {
        t_ok({ REQUEST => ["GET $t HTTP/1.0\nHost: tmp-root"],
               RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => "latin\n" }] },
             "a Latin-1 file name: $t is served");
    }
    t_ok({ REQUEST => ["GET /d%e9/f%e9 HTTP/1.0\nHost: tmp-root"],
           RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => "in\n" }] },
         '... also in a Latin-1 directory');
    t_ok({ REQUEST => ["GET /d%e9 HTTP/1.0\nHost: tmp-root"],
           RESPONSE => [{ 'HTTP-Status' => 301, 'Location' => '/d%E9/' }] },
         '... the directory redirect encodes the byte');
    my $x = $tf->http_exchange("GET /d%e9/ HTTP/1.0\r\nHost: tmp-root\r\n\r\n");
    my $body = $x->{responses}[0] ? $x->{responses}[0]->body : '';
    like($body, qr{<a href="f%E9">f\xe9</a>}, '... the listing links to it by %E9 and shows the byte');
    like($body, qr{<title>Index of /d\xe9/</title>}, '... under the directory\'s name as bytes');
    like(strip_log_prefix($tf->error_log), qr{^URI-path \(clean\): /caf\\xe9$}m,
         '... and the trace writes it as \xe9');
    mkdir $tf->tmpdir . "/w\xe9" or die $!;
    open(my $fh, '>', $tf->tmpdir . "/w\xe9/in.txt") or die $!;
    print $fh "in a Latin-1 root\n";
    close $fh;
    t_ok({ REQUEST => ["GET /in.txt HTTP/1.0\nHost: latin-root"],
           RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => "in a Latin-1 root\n", 'Server' => "t\xe9" }] },
         'a document root and a server.tag in Latin-1 in the config');
    t_ok({ REQUEST => ["GET /latine HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 403 }] },
         'a regex condition matches a UTF-8 path ...');
    t_ok({ REQUEST => ["GET /latin%e9 HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 404 }] },
         '... and never one that is not UTF-8');
    t_ok({ REQUEST => ["GET /bytes/%e9 HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 403 }] },
         '... while a plain prefix compares such a path\'s bytes');
}

# After its response, a connection the client asked to close is closed at
# once (ours) when that request had no body and nothing came after it;
# otherwise the server lingers: it reads and drops what the client still
# sends until the client closes, so that input cannot turn the close into
# a reset that loses the response. 1.4.69 always lingers. Seen from the
# client: after the response and its end, it writes twice; a closed socket
# answers the first with a reset, so the second fails (EPIPE).
{
    my $reference = (lighttpd_exe() =~ m{^/usr/s?bin/});
    local $SIG{PIPE} = 'IGNORE';
    my $after_close = sub {
        my ($req) = @_;
        my $s = $tf->connect_server or return ('', 'no connection');
        syswrite($s, $req);
        my $resp = '';
        while (1) {
            my $n = sysread($s, my $buf, 65536);
            last unless $n;
            $resp .= $buf;
        }
        syswrite($s, "more\r\n");
        select(undef, undef, undef, 0.2);
        my $r = syswrite($s, "more\r\n");
        close $s;
        return ($resp, defined $r ? 'taken' : ($!{EPIPE} || $!{ECONNRESET}) ? 'refused' : "error $!");
    };
    my ($resp, $how) = $after_close->("GET /hello.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    like($resp, qr{^HTTP/1\.1 200 OK\r\n.*\r\n\r\n\Q$hello\E\z}s, 'Connection: close: the whole response');
    is($how, $reference ? 'taken' : 'refused', '... then the socket is closed at once (1.4.69 lingers)');
    ($resp, $how) = $after_close->("GET /big.txt HTTP/1.0\r\n\r\n");
    is(length($resp) > length($big) && substr($resp, -length($big)) eq $big, 1, 'HTTP/1.0: the whole response');
    is($how, $reference ? 'taken' : 'refused', '... then the socket is closed at once');
    ($resp, $how) = $after_close->("GET /hello.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
                                   . "GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n");
    is(() = $resp =~ m{^HTTP/1\.1 200 OK\r\n}mg, 1, 'a request after the closing one: not answered ...');
    is($how, 'taken', '... and the server lingers');
    ($resp, $how) = $after_close->("POST /hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
    like($resp, qr{^HTTP/1\.1 \d{3} }, 'a closing request with a body: answered ...');
    is($how, 'taken', '... and the server lingers');
    ($resp, $how) = $after_close->("GET /hello.txt HTTP/1.1\r\n\r\n");
    like($resp, qr{^HTTP/1\.1 400 }, 'a close the server decides (400) ...');
    is($how, 'taken', '... lingers');
}

# SIGINT: graceful shutdown
my $pid = $tf->pid;
kill 'INT', $pid;
my $waited = 0;
while (kill(0, $pid) && $waited < 50) { select(undef, undef, undef, 0.1); $waited++ }
ok(!kill(0, $pid) || waitpid($pid, 1), 'SIGINT: the server shuts down gracefully');
like(strip_log_prefix($tf->server_log), qr/^\[note\] graceful shutdown started$/m, 'graceful shutdown is logged');
$tf->stop_proc;

# mod_access before mod_indexfile: its second look is on the directory's URL
$tf = LightyTest->new(config => 'access-first.conf');
ok($tf->start_proc == 0, 'mod_access listed first: server starts') or do { done_testing(); exit };
t_ok({ REQUEST => ["GET /sub/ HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 200 }] },
     'mod_access before mod_indexfile: the index page of /sub/ is served');
t_ok({ REQUEST => ["GET /sub/index.html HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 403 }] },
     '... while asked by name it is refused');
$tf->stop_proc;
done_testing();
