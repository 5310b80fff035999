#!/usr/bin/perl
# mod_fastcgi on the wire with a real FastCGI responder (our
# examples/fcgi_responder, the behaviour of lighttpd's tests/fcgi-responder.c):
# prefix and extension keys, check-local, the CGI environment, request
# bodies, stderr to the error log, buffered responses with Content-Length
# and Range, and the 503 when the backend is gone. Expected values are
# lighttpd 1.4.69's with the same responder.

use strict;
use warnings;
use Test::More;
use POSIX ();
use IO::Socket::INET;
use LightyTest qw(topdir strip_log_prefix);

my $resp = topdir() . '/target/release/examples/fcgi_responder';
plan skip_all => "build the test responder first: cargo build --release --example fcgi_responder"
    unless -x $resp;

my $tmp = File::Temp::tempdir(CLEANUP => 1);
my $sock = "$tmp/resp.sock";
my $rpid = fork();
die "fork: $!" unless defined $rpid;
if (!$rpid) {
    # Not on prove's pipe: a responder left behind must not hold the run.
    open(STDOUT, '>', '/dev/null');
    open(STDERR, '>', '/dev/null');
    exec $resp, '--listen', $sock or POSIX::_exit(127);
}
END { kill 'TERM', $rpid if $rpid }
for (1 .. 50) { last if -S $sock; select(undef, undef, undef, 0.05) }
ok(-S $sock, 'responder listens');

my $tf = LightyTest->new(config => 'fastcgi.conf', env => { FCGI_SOCK => $sock });
mkdir $tf->tmpdir . '/uploads';
ok($tf->start_proc == 0, 'server starts') or do { kill 'TERM', $rpid; done_testing(); exit };
sub t_ok { my ($t, $name) = @_; ok($tf->handle_http($t) == 0, $name) }

t_ok({ REQUEST => ["GET /fcgi?lf HTTP/1.1\nHost: a\nConnection: close"],
       RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => 'test123', 'Content-Length' => 7,
                      'Accept-Ranges' => 'bytes', '-Transfer-Encoding' => '' }] },
     'prefix key, check-local disabled: LF headers, buffered body with Content-Length');
t_ok({ REQUEST => ["GET /fcgi?crlf HTTP/1.0"],
       RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => 'test123', '-Accept-Ranges' => '' }] },
     'CRLF headers; HTTP/1.0 gets no Accept-Ranges');
t_ok({ REQUEST => ["GET /fcgi?split-headers HTTP/1.0"],
       RESPONSE => [{ 'HTTP-Status' => 200, 'X-Split' => 'yes' }] },
     'headers split across STDOUT records');
t_ok({ REQUEST => ["GET /fcgi?slow-crlf HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => 'test123' }] },
     'status line and blank line in separate records');
t_ok({ REQUEST => ["GET /fcgi HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 200 }] },
     'QUERY_STRING is always sent (empty)');

my $x = $tf->http_exchange("GET /fcgi/a/b?dump-env HTTP/1.0\r\nX-Foo-Bar: 1\r\n\r\n");
my $env = $x->{responses}[0] ? $x->{responses}[0]->body : '';
my @names = map { (split /=/, $_, 2)[0] } split /\n/, $env;
is(join(',', @names[0 .. 13]),
   'CONTENT_LENGTH,QUERY_STRING,REQUEST_URI,REDIRECT_STATUS,SCRIPT_NAME,PATH_INFO,PATH_TRANSLATED,'
   . 'SCRIPT_FILENAME,DOCUMENT_ROOT,REQUEST_METHOD,SERVER_PROTOCOL,SERVER_SOFTWARE,GATEWAY_INTERFACE,REQUEST_SCHEME',
   'environment in lighttpd\'s order');
like($env, qr/^SCRIPT_NAME=\/fcgi\nPATH_INFO=\/a\/b\n/m, 'prefix split: SCRIPT_NAME /fcgi, PATH_INFO /a/b');
like($env, qr/^REQUEST_URI=\/fcgi\/a\/b\?dump-env$/m, 'REQUEST_URI is the raw target');
like($env, qr/^HTTP_X_FOO_BAR=1$/m, 'request headers as HTTP_*');

t_ok({ REQUEST => ["POST /fcgi?echo-stdin HTTP/1.0\nContent-Length: 11\n\nhello world"],
       RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => 'hello world' }] },
     'request body reaches the backend as STDIN');
t_ok({ REQUEST => ["POST /fcgi?echo-stdin HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\nConnection: close\n\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n"],
       RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => 'hello world' }] },
     'a chunked request body is read in full, de-chunked, and sent');
$x = $tf->http_exchange("POST /fcgi?dump-env HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
like($x->{responses}[0] ? $x->{responses}[0]->body : '', qr/^CONTENT_LENGTH=3$/m,
     'the backend sees the de-chunked length as CONTENT_LENGTH');
t_ok({ REQUEST => ["POST /fcgi?echo-stdin HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\nConnection: close\n\nzz\r\nhello\r\n0\r\n\r\n"],
       RESPONSE => [{ 'HTTP-Status' => 400 }] },
     'a bad chunk size: 400 before the backend runs');
{
    my $big = join '', map { chr(65 + $_ % 26) x 1000 } 0 .. 299;
    t_ok({ REQUEST => ["POST /fcgi?echo-stdin HTTP/1.0\nContent-Length: " . length($big) . "\n\n$big"],
           RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => $big }] },
         'a 300 kB body (kept in a temp file) arrives whole');
    opendir(my $d, $tf->tmpdir . '/uploads') or die;
    is(scalar(grep { /^lighttpd-upload-/ } readdir $d), 0, 'no temp file is left in server.upload-dirs');
}
{
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $tf->port, Proto => 'tcp') or die;
    print $s "POST /fcgi?echo-stdin HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n";
    my $first = '';
    while ($first !~ /\r\n\r\n/) { sysread($s, my $buf, 100) or last; $first .= $buf }
    is($first, "HTTP/1.1 100 Continue\r\n\r\n", 'Expect: 100-continue: 100 Continue before the body');
    print $s "hello";
    my $rest = do { local $/; <$s> };
    like($rest, qr/\AHTTP\/1\.1 200 OK\r\n.*\r\n\r\nhello\z/s, 'then the response');
}
{
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $tf->port, Proto => 'tcp') or die;
    print $s "GET /fcgi?early-hints HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    my $r = do { local $/; <$s> };
    like($r, qr{\AHTTP/1\.1 103 Early Hints\r\nLink: </s\.css>; rel=preload\r\n\r\nHTTP/1\.1 200 OK\r\n.*\r\n\r\ntest123\z}s,
         'a 103 from the backend is relayed (its own headers only), then the response');
    $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $tf->port, Proto => 'tcp') or die;
    print $s "GET /fcgi?early-hints HTTP/1.0\r\n\r\n";
    $r = do { local $/; <$s> };
    like($r, qr{\AHTTP/1\.0 200 OK\r\n.*\r\n\r\ntest123\z}s, 'not to an HTTP/1.0 client');
}
t_ok({ REQUEST => ["GET /fcgi?lf HTTP/1.1\nHost: a\nRange: bytes=0-2\nConnection: close"],
       RESPONSE => [{ 'HTTP-Status' => 206, 'Content-Range' => 'bytes 0-2/7', 'HTTP-Content' => 'tes' }] },
     'Range applies to a complete backend response');
sub exchange {    # raw request -> everything read until the server closes,
                  # without our Date line; in list context also whether it closed
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $tf->port, Proto => 'tcp') or die;
    print $s $_[0];
    my $r = '';
    my $closed = eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm 5;
        while (sysread($s, my $buf, 4096)) { $r .= $buf }
        alarm 0;
        1;
    };
    $r =~ s/^Date: [^\r]*GMT\r\n//mg;    # ours; a backend's Date has no GMT here
    return wantarray ? ($r, $closed) : $r;
}
# Range and Content-Length on a buffered reply follow the reply's own
# headers, as lighttpd's do for any response it holds whole.
my $digits = '0123456789abcdefghij';
sub range_ok {
    my ($q, $extra, $want, $name) = @_;
    t_ok({ REQUEST => ["GET /fcgi?$q HTTP/1.1\nHost: a\nConnection: close$extra"], RESPONSE => [$want] }, $name);
}
range_ok('hdrs=', "\nRange: bytes=2-4\nIf-Range: \"other\"",
         { 'HTTP-Status' => 200, 'HTTP-Content' => $digits, '-Content-Range' => '' },
         'If-Range that is not the reply\'s ETag: the whole 200');
range_ok('hdrs=ETag:%20%22e1%22', "\nRange: bytes=2-4\nIf-Range: \"e1\"",
         { 'HTTP-Status' => 206, 'HTTP-Content' => '234', 'Content-Range' => 'bytes 2-4/20' },
         'If-Range equal to the reply\'s ETag: 206');
range_ok('hdrs=Last-Modified:%20Mon,%2002%20Jan%202023%2003:04:05%20GMT',
         "\nRange: bytes=2-4\nIf-Range: Mon, 02 Jan 2023 03:04:05 GMT",
         { 'HTTP-Status' => 206, 'HTTP-Content' => '234' }, 'If-Range equal to its Last-Modified: 206');
range_ok('hdrs=Accept-Ranges:%20none', "\nRange: bytes=2-4",
         { 'HTTP-Status' => 200, 'HTTP-Content' => $digits, 'Accept-Ranges' => 'none' },
         'Accept-Ranges: none from the backend: no Range, no second Accept-Ranges');
range_ok('hdrs=Accept-Ranges:%20bytes', "\nRange: bytes=2-4",
         { 'HTTP-Status' => 206, 'HTTP-Content' => '234', 'Accept-Ranges' => 'bytes' },
         'Accept-Ranges: bytes from the backend is not sent twice');
range_ok('hdrs=Content-Encoding:%20gzip', "\nRange: bytes=2-4",
         { 'HTTP-Status' => 200, 'HTTP-Content' => $digits, '-Accept-Ranges' => '' },
         'an encoded reply gets no Range and no Accept-Ranges');
range_ok('hdrs0=', '', { 'HTTP-Status' => 200, 'Content-Length' => 0, 'Accept-Ranges' => 'bytes' },
         'an empty 200 is offered ranges too');
range_ok('hdrs=Content-Length:%2010', '', { 'HTTP-Status' => 200, 'Content-Length' => 10, 'HTTP-Content' => '0123456789' },
         'bytes past the backend\'s Content-Length are dropped');
range_ok('hdrs=Status:%20304|Content-Length:%205', '', { 'HTTP-Status' => 304, '-Content-Length' => '' },
         'a 304 loses the backend\'s Content-Length');
t_ok({ REQUEST => ["HEAD /fcgi?hdrs0=Content-Length:%2020 HTTP/1.1\nHost: a\nConnection: close"],
       RESPONSE => [{ 'HTTP-Status' => 200, 'Content-Length' => 20, 'Accept-Ranges' => 'bytes' }] },
     'HEAD keeps the length the backend announces');
t_ok({ REQUEST => ["HEAD /fcgi?hdrs0= HTTP/1.1\nHost: a\nConnection: close"],
       RESPONSE => [{ 'HTTP-Status' => 200, '-Content-Length' => '', 'Accept-Ranges' => 'bytes' }] },
     'HEAD answered without a body or a length gets no Content-Length');
t_ok({ REQUEST => ["HEAD /fcgi?hdrs= HTTP/1.1\nHost: a\nConnection: close"],
       RESPONSE => [{ 'HTTP-Status' => 200, 'Content-Length' => 20 }] },
     'HEAD answered with a body: its length');
{
    # Fewer bytes than the backend's Content-Length: the connection closes
    # after them (1.4.69 keeps it open and the client waits for the rest).
    my ($r, $closed) = exchange("GET /fcgi?hdrs=Content-Length:%2030 HTTP/1.1\r\nHost: a\r\n\r\n");
    like($r, qr{\r\nContent-Length: 30\r\n.*\r\n\r\n\Q$digits\E\z}s,
         'a reply short of its Content-Length goes out as it came');
    ok($closed, '... and then the connection closes');
}

# What the backend's head says about the message itself, as 1.4.69 reads it.
my $tag = 'Server: lighttpd/1.4.69';    # the default server.tag, ours too
is(exchange("GET /fcgi?hdrs=Connection:%20keep-alive|X:%201|Connection:%20Upgrade HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"),
   "HTTP/1.1 200 OK\r\nConnection: close\r\nX: 1\r\nAccept-Ranges: bytes\r\nContent-Length: 20\r\n$tag\r\n\r\n$digits",
   'the backend\'s Connection lines: ours in the first one\'s place, the others dropped');
is(exchange("GET /fcgi?hdrs=Connection:%20close HTTP/1.1\r\nHost: a\r\n\r\n"),
   "HTTP/1.1 200 OK\r\nConnection: close\r\nAccept-Ranges: bytes\r\nContent-Length: 20\r\n$tag\r\n\r\n$digits",
   'Connection: close from the backend ends a kept connection, said once');
is(exchange("GET /fcgi?hdrs=Server:%20theirs|Date:%20yesterday HTTP/1.0\r\n\r\n"),
   "HTTP/1.0 200 OK\r\nServer: theirs\r\nDate: yesterday\r\nContent-Length: 20\r\nConnection: close\r\n\r\n$digits",
   'the backend\'s Server and Date stand instead of ours');
is(exchange("GET /fcgi?hdrs=Transfer-Encoding:%20chunked||5|hello|6|%20world|0|Trailer:%20x|| HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"),
   "HTTP/1.1 200 OK\r\nAccept-Ranges: bytes\r\nContent-Length: 11\r\nConnection: close\r\n$tag\r\n\r\nhello world",
   'a chunked body from the backend is de-chunked (trailers dropped)');
is(exchange("GET /fcgi?hdrs=Content-Length:%2099|Transfer-Encoding:%20gzip||5|hello|0|| HTTP/1.0\r\n\r\n"),
   "HTTP/1.0 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n$tag\r\n\r\nhello",
   '... whatever Transfer-Encoding says, and its Content-Length is replaced where it stood');
is(exchange("GET /fcgi?hdrs=Transfer-Encoding:%20chunked||3|abc|zz|more| HTTP/1.0\r\n\r\n"),
   "HTTP/1.0 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n$tag\r\n\r\nabc",
   '... up to a bad chunk');
is(exchange("HEAD /fcgi?hdrs=Transfer-Encoding:%20chunked||5|hello|0|| HTTP/1.0\r\n\r\n"),
   "HTTP/1.0 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n$tag\r\n\r\n",
   '... and a HEAD gets the de-chunked length');
is(exchange("GET /fcgi?hdrs=Status:%20304|Content-Encoding:%20gzip|ETag:%20%22e%22|Content-Length:%2020 HTTP/1.0\r\n\r\n"),
   "HTTP/1.0 304 Not Modified\r\nETag: \"e\"\r\nConnection: close\r\n$tag\r\n\r\n",
   'a 304 from the backend loses Content-Encoding, Content-Length and its body');
# Heads 1.4.69 refuses: 502, or 500 when it never ends.
t_ok({ REQUEST => ["GET /fcgi?hdrs=Status:%20abc HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 502 }] },
     'a bad Status: 502');
t_ok({ REQUEST => ["GET /fcgi?hdrs=Status:%2099 HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 502 }] },
     'a Status below 100: 502');
t_ok({ REQUEST => ["GET /fcgi?raw=no%20colon||body HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 502 }] },
     'a first line without a colon: 502');
t_ok({ REQUEST => ["GET /fcgi?raw=HTTP/2%20200|X-A:%201||body HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 502 }] },
     'an NPH line of another HTTP version: 502');
t_ok({ REQUEST => ["GET /fcgi?raw=HTTP/1.1%20abc||body HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 502 }] },
     'an NPH status line without a status: 502');
t_ok({ REQUEST => ["GET /fcgi?raw=Status:%20200|X:%20y HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 500 }] },
     'END_REQUEST before the head ended: 500');
t_ok({ REQUEST => ["GET /fcgi?raw= HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 500 }] },
     'END_REQUEST with no output at all: 500');
like(exchange("GET /fcgi?raw=Status:%20100||Status:%20200 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"),
     qr{\AHTTP/1\.1 100 Continue\r\n\r\nHTTP/1\.1 500 Internal Server Error\r\n}, '... also after an interim 100');
t_ok({ REQUEST => ["GET /fcgi/%41/./b/../c?env=REDIRECT_URI HTTP/1.0"],
       RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => '/fcgi/A/c?env=REDIRECT_URI' }] },
     'REDIRECT_URI: the normalized target, when it differs from the one sent');
t_ok({ REQUEST => ["GET /fcgi/A/c?env=REDIRECT_URI HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => '' }] },
     '... and none when it does not');
is(exchange("GET /fcgi?raw=Status:%20100|Content-Length:%205|Transfer-Encoding:%20chunked||Status:%20200||ok HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"),
   "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nAccept-Ranges: bytes\r\nContent-Length: 2\r\nConnection: close\r\n$tag\r\n\r\nok",
   'a 1xx head goes on without the Content-Length that Transfer-Encoding voided');
t_ok({ REQUEST => ["GET /fcgi?hdrs=Location:%20/elsewhere HTTP/1.0"],
       RESPONSE => [{ 'HTTP-Status' => 302, 'Location' => '/elsewhere' }] },
     'Location without Status: 302');
t_ok({ REQUEST => ["GET /fcgi?big=300000 HTTP/1.0"],
       RESPONSE => [{ 'HTTP-Status' => 200, 'Content-Length' => 300000 }] },
     'a 300 kB body');
t_ok({ REQUEST => ["GET /fcgi?stderr=oops HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 200 }] },
     'stderr output');
t_ok({ REQUEST => ["GET /fcgi?stderr=caf%e9 HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 200 }] },
     'stderr output in Latin-1');
t_ok({ REQUEST => ["GET /t.fcgi?lf HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => 'test123' }] },
     'extension key, check-local: existing file');
t_ok({ REQUEST => ["GET /missing.fcgi?lf HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 404 }] },
     'extension key, check-local: missing file is 404');
t_ok({ REQUEST => ["GET /t.fcgi/extra?lf HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => 'test123' }] },
     'extension key, check-local: the file with PATH_INFO after it');
t_ok({ REQUEST => ["GET /t.fcgi/extra?denyfcgi HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 403 }] },
     '... refused by url.access-deny on its URL path without PATH_INFO (mod_access looks twice)');

t_ok({ REQUEST => ["GET /cond/x?lf HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => 'test123' }] },
     'fastcgi.server inside a conditional applies to the URLs it matches');
t_ok({ REQUEST => ["GET /fcgi/private/x?lf HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 403 }] },
     'url.access-deny is checked before the backend runs');
t_ok({ REQUEST => ["OPTIONS * HTTP/1.1\nHost: a\nConnection: close"],
       RESPONSE => [{ 'HTTP-Status' => 200, 'Allow' => 'OPTIONS, GET, HEAD, POST' }] },
     'OPTIONS * is answered by the core, not a backend');

my $docroot = LightyTest::srcdir() . '/docroot';
my $hello = LightyTest::slurp_file("$docroot/hello.txt");
t_ok({ REQUEST => ["GET /xs?xsendfile=$docroot/hello.txt HTTP/1.0"],
       RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => $hello, 'Content-Type' => 'text/plain',
                      'Content-Length' => length($hello), '+ETag' => '', '-X-Sendfile' => '' }] },
     'X-Sendfile: the file replaces the backend body, served as a static file');
t_ok({ REQUEST => ["GET /xs?xsendfile=$docroot/../conf/fastcgi.conf HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 403 }] },
     'X-Sendfile outside x-sendfile-docroot: 403');
t_ok({ REQUEST => ["GET /xs?xsendfile=$docroot/nope.txt HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 404 }] },
     'X-Sendfile of a missing file: 404');
t_ok({ REQUEST => ["GET /fcgi?xsendfile=$docroot/hello.txt HTTP/1.0"],
       RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => 'this body is replaced', '-X-Sendfile' => '' }] },
     'x-sendfile disabled: the backend body is sent, X-Sendfile never reaches the client');
t_ok({ REQUEST => ["GET /xs?xsendfile2=$docroot/hello.txt+0-4,+$docroot/hello.txt+11- HTTP/1.0"],
       RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => "plain" . substr($hello, 11),
                      'Content-Length' => 5 + length($hello) - 11, '-X-Sendfile2' => '' }] },
     'X-Sendfile2: the listed ranges, concatenated, with their Content-Length');
t_ok({ REQUEST => ["GET /xs?xsendfile2=$docroot/hello.txt+x-4 HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 502 }] },
     'X-Sendfile2 with a bad range: 502');
t_ok({ REQUEST => ["GET /xs?xsendfile2=$docroot/../conf/fastcgi.conf+0-1 HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 403 }] },
     'X-Sendfile2 outside x-sendfile-docroot: 403');
t_ok({ REQUEST => ["GET /xs?xlsendfile=$docroot/hello.txt HTTP/1.0"],
       RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => $hello, 'Content-Type' => 'text/plain' }] },
     'X-LIGHTTPD-send-file works as X-Sendfile');

# X-Sendfile under the backend's own status and headers (1.4.69, found
# side by side by scripts/compare-backend-random).
sub xs {    # header lines (| between) -> the hdrs0= query for /xs
    my $q = join('|', @_);
    $q =~ s/([^A-Za-z0-9\/._\-|])/sprintf('%%%02X', ord($1))/ge;
    return "/xs?hdrs0=$q";
}
my $hlen = length($hello);
t_ok({ REQUEST => ["GET " . xs('X-A: 1', "X-Sendfile: $docroot/hello.txt") . " HTTP/1.0"],
       RESPONSE => [{ 'HTTP-Status' => 200, 'X-A' => '1', 'HTTP-Content' => $hello, '+ETag' => '' }] },
     "X-Sendfile keeps the backend's other headers");
t_ok({ REQUEST => ["GET " . xs('Status: 404', "X-Sendfile: $docroot/hello.txt") . " HTTP/1.0"],
       RESPONSE => [{ 'HTTP-Status' => 404, 'HTTP-Content' => $hello, 'Content-Type' => 'text/plain',
                      '-ETag' => '', '-Last-Modified' => '' }] },
     "X-Sendfile under the backend's 404: that status, the file, no validators");
t_ok({ REQUEST => ["GET " . xs('Location: /x', "X-Sendfile: $docroot/hello.txt") . " HTTP/1.0"],
       RESPONSE => [{ 'HTTP-Status' => 302, 'Location' => '/x', 'HTTP-Content' => $hello }] },
     'X-Sendfile with Location: a 302 with the file');
t_ok({ REQUEST => ["GET " . xs('Status: 500', "X-Sendfile: $docroot/nope.txt") . " HTTP/1.0"],
       RESPONSE => [{ 'HTTP-Status' => 500, 'Content-Length' => 0, 'HTTP-Content' => '' }] },
     "a missing X-Sendfile file under the backend's 500: that status, empty, no error page");
t_ok({ REQUEST => ["GET " . xs('ETag: "e"', "X-Sendfile: $docroot/hello.txt") . " HTTP/1.0\nIf-None-Match: \"e\""],
       RESPONSE => [{ 'HTTP-Status' => 304, 'ETag' => '"e"' }] },
     "If-None-Match is answered against the backend's ETag");
t_ok({ REQUEST => ["GET " . xs('Last-Modified: Mon, 02 Jan 2023 03:04:05 GMT', "X-Sendfile: $docroot/hello.txt")
                   . " HTTP/1.0\nIf-Modified-Since: Mon, 02 Jan 2023 03:04:05 GMT"],
       RESPONSE => [{ 'HTTP-Status' => 304, 'Last-Modified' => 'Mon, 02 Jan 2023 03:04:05 GMT' }] },
     "If-Modified-Since equal to the backend's Last-Modified: 304");
like(scalar exchange("GET " . xs('Content-Length: 3', 'X-A: b', "X-Sendfile: $docroot/hello.txt") . " HTTP/1.0\r\n\r\n"),
     qr{\AHTTP/1\.0 200 OK\r\nContent-Length: $hlen\r\nX-A: b\r\nContent-Type: text/plain\r\n},
     "the file's Content-Length takes the place of the backend's");
t_ok({ REQUEST => ["GET " . xs('Content-Encoding: gzip', "X-Sendfile: $docroot/hello.txt")
                   . " HTTP/1.1\nHost: a\nRange: bytes=1-2\nConnection: close"],
       RESPONSE => [{ 'HTTP-Status' => 200, 'Content-Encoding' => 'gzip', 'HTTP-Content' => $hello }] },
     'an encoded X-Sendfile reply takes no Range');
t_ok({ REQUEST => ["GET /xs?xsendfile2=$docroot/hello.txt+0-99999 HTTP/1.0"],
       RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => $hello, 'Content-Length' => $hlen }] },
     "an X-Sendfile2 range past the end of the file stops at the file's end");
t_ok({ REQUEST => ["GET /xs?xsendfile2=$docroot/hello.txt+0-4 HTTP/1.1\nHost: a\nRange: bytes=1-2\nConnection: close"],
       RESPONSE => [{ 'HTTP-Status' => 206, 'Content-Range' => 'bytes 1-2/5', 'HTTP-Content' => 'la',
                      'Accept-Ranges' => 'bytes' }] },
     'an X-Sendfile2 reply takes a Range like any complete 200');
t_ok({ REQUEST => ["GET " . xs('Status: 302', "X-Sendfile2: $docroot/hello.txt 0-1, $docroot/nope.txt 0-1") . " HTTP/1.0"],
       RESPONSE => [{ 'HTTP-Status' => 302, 'HTTP-Content' => 'pl' }] },
     "X-Sendfile2 failing after a found piece under the backend's 302: that status and what was found");
t_ok({ REQUEST => ["GET " . xs("X-Sendfile2: $docroot/nope.txt 5-2") . " HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 404 }] },
     'X-Sendfile2 looks the file up before it reads the range (404, not 502)');
t_ok({ REQUEST => ["GET " . xs("X-Sendfile: $docroot/a%ff.txt") . " HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 502 }] },
     'X-Sendfile that is not UTF-8 once decoded: 502');
t_ok({ REQUEST => ["GET /xs?xsendfile2=$docroot/%C3%A9.txt+0-1 HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 404 }] },
     'X-Sendfile2 of a missing file with a non-ASCII name: 404');
t_ok({ REQUEST => ["GET /xoff?xsendfile=$docroot/hello.txt HTTP/1.0"],
       RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => 'this body is replaced' }] },
     '"x-sendfile" => "disable" wins over "allow-x-send-file" => "enable" written after it');

kill 'TERM', $rpid;
waitpid($rpid, 0);
$rpid = 0;
unlink $sock;
t_ok({ REQUEST => ["GET /fcgi?lf HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 503 }] },
     'backend gone: 503');
select(undef, undef, undef, 0.2);
my $log = strip_log_prefix($tf->server_log);
like($log, qr/^FastCGI-stderr:oops$/m, 'backend stderr in the error log');
like($log, qr/^FastCGI-stderr:caf\\xe9$/m, '... a byte that is not UTF-8 written as \xe9');
like($log, qr/^invalid HTTP status line: HTTP\/1\.1 abc$/m, 'a bad NPH status line is logged as 1.4.69 logs it');
like($log, qr/^invalid HTTP status line: HTTP\/2 200\\r\\nX-A: 1\\r\\n\\r\\nbody$/m,
     'one whose 13th byte does not end it: all that was received, escaped, as 1.4.69 logs it');
like($log, qr/^connect succeeded: \d+$/m, 'fastcgi.debug 2: connect succeeded');
like($log, qr/^establishing connection failed: socket: unix:\Q$sock\E: No such file or directory$/m,
     'connect failure logged');
like($log, qr/^all handlers for \/fcgi\?lf on \/fcgi are down\.$/m, 'no live backend: "all handlers ... are down"');
like($log, qr/^X-Sendfile invalid UTF-8 after url-decode: \Q$docroot\E\/a\\xff\.txt$/m,
     'log lines escape bytes that are not printable ASCII (\xff)');
like($log, qr/^send-file error: couldn't get stat_cache entry for X-Sendfile2: \Q$docroot\E\/\\xc3\\xa9\.txt$/m,
     'and UTF-8 bytes too, as lighttpd writes them');
$tf->stop_proc;
done_testing();
