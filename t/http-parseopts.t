#!/usr/bin/perl
# server.http-parseopts away from its defaults, on the wire: header-strict,
# host-strict, host-normalize, url-path-2f-reject, url-path-dotseg-reject,
# url-query-20-plus, url-normalize disabled, and the options that conflict
# with the defaults. Expected values are lighttpd 1.4.69's.

use strict;
use warnings;
use Test::More;
use LightyTest;

my $hello = LightyTest::slurp_file(LightyTest::srcdir() . '/docroot/hello.txt');
my $tf = LightyTest->new(config => 'parseopts-strict.conf');
ok($tf->start_proc == 0, 'server starts') or do { done_testing(); exit };
$tf->http_ok({ RAW => "GET /hello.txt HTTP/1.1\nHost: x\nConnection: close\n\n",
    RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => $hello }] },
   'header-strict off: lines ended by a bare LF');
$tf->http_ok({ RAW => "GET /hello.txt HTTP/1.1\nX: y\n\n",
    RESPONSE => [{ 'HTTP-Protocol' => 'HTTP/1.1', 'HTTP-Status' => 400 }] },
   'header-strict off: an HTTP/1.1 request without Host is answered as HTTP/1.1');
$tf->http_ok({ RAW => "GET /hello.txt HTTP/1.1\r\nHost: a_b\r\nConnection: close\r\n\r\n",
    RESPONSE => [{ 'HTTP-Status' => 400 }] }, 'host-strict: "_" in Host is refused');
$tf->http_ok({ REQUEST => ["GET /sub%2fx HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 400 }] },
   'url-path-2f-reject: %2F in the path is refused');
$tf->http_ok({ REQUEST => ["GET /sub/../hello.txt HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 400 }] },
   'url-path-dotseg-reject: a dot-segment is refused');
$tf->http_ok({ REQUEST => ["GET /file.txt?a%20b HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 200 }] },
   'url-query-20-plus: %20 in the query is "+" for $HTTP["querystring"]');
$tf->http_ok({ REQUEST => ["GET /file.txt?a%2Bb HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 404 }] },
   'url-query-20-plus: an encoded "+" stays encoded');
$tf->stop_proc;

$tf = LightyTest->new(config => 'parseopts-off.conf');
ok($tf->start_proc == 0, 'url-normalize disabled: server starts (2f-reject off with it, later entries unread)')
    or do { done_testing(); exit };
$tf->http_ok({ REQUEST => ["GET /sub%2fx HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 404 }] },
   'url-normalize disabled: %2F is not refused');
$tf->http_ok({ REQUEST => ["GET /%68ello.txt HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => $hello }] },
   'url-normalize disabled: the path is still decoded to find the file');
$tf->http_ok({ RAW => "GET /h\x00llo.txt HTTP/1.0\r\n\r\n", RESPONSE => [{ 'HTTP-Status' => 404 }] },
   'url-normalize disabled: a NUL byte in the path names no file (404, not 500)');
$tf->http_ok({ RAW => "GET /hello.txt HTTP/1.1\nHost: x\n\n",
    RESPONSE => [{ 'HTTP-Protocol' => 'HTTP/1.0', 'HTTP-Status' => 400 }] },
   'url-normalize disabled: the header-strict after it is not read (bare LF refused)');
$tf->stop_proc;

# The conflicts count the defaults: url-path-dotseg-reject alone meets the
# default url-path-dotseg-remove, url-path-2f-reject the default 2f-decode.
for my $c (['url-path-dotseg-reject', 'url-path-dotseg-remove, url-path-dotseg-reject'],
           ['url-path-2f-reject', 'url-path-2f-decode, url-path-2f-reject']) {
    my ($opt, $words) = @$c;
    my $conf = $tf->tmpdir . "/conflict.conf";
    open(my $fh, '>', $conf) or die "$conf: $!";
    print $fh qq{server.document-root = "/tmp"\nserver.port = 2\nserver.http-parseopts = ( "$opt" => "enable" )\n};
    close $fh;
    my $out = `"@{[LightyTest::lighttpd_exe()]}" -tt -f "$conf" 2>&1`;
    isnt($? >> 8, 0, "$opt alone: the config is refused");
    like($out, qr/\Qconflicting options in server.http-parseopts:$words\E/, "$opt alone: the error names $words");
}
done_testing();
