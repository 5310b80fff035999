#!/usr/bin/perl
# server.force-lowercase-filenames: files are looked up by the lower-cased
# URL path, per request (a conditional can turn it off);
# server.absolute-dir-redirect: the directory 301 names scheme and host;
# the dir-listing.* page options; mod_alias's alias.url.
# Expected values are lighttpd 1.4.69's.

use strict;
use warnings;
use Test::More;
use LightyTest;
use File::Temp ();

my $reference = (LightyTest::lighttpd_exe() =~ m{^/usr/s?bin/});
# names for dir-listing.exclude: Latin-1 (not UTF-8), UTF-8, ASCII
my $utf = File::Temp::tempdir(CLEANUP => 1);
for my $name ("f\xe9.txt", "g\xc3\xa9.txt", "plain.txt") {
    open(my $fh, '>', "$utf/$name") or die "$name: $!";
    close $fh;
}
my $tf = LightyTest->new(config => 'static-options.conf', env => { UTF_DIR => $utf });
ok($tf->start_proc == 0, 'server starts') or do { done_testing(); exit };
my $hello = LightyTest::slurp_file(LightyTest::srcdir() . '/docroot/hello.txt');
for my $path ('/HELLO.TXT', '/Hello.Txt', '/hello.txt') {
    ok($tf->handle_http({ REQUEST => ["GET $path HTTP/1.0"],
        RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => $hello, 'Content-Type' => 'text/plain' }] }) == 0,
       "$path is served from hello.txt");
}
ok($tf->handle_http({ REQUEST => ["GET /NOPE.TXT HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 404 }] }) == 0,
   'a missing file is still 404');
ok($tf->handle_http({ REQUEST => ["GET /SUB/ HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 404 }] }) == 0,
   'turned off in a conditional: /SUB/ is not /sub/');
ok($tf->handle_http({ REQUEST => ["GET /sub?a=1 HTTP/1.1\nHost: example.com:8080\nConnection: close"],
    RESPONSE => [{ 'HTTP-Status' => 301, 'Location' => 'http://example.com:8080/sub/?a=1' }] }) == 0,
   'absolute-dir-redirect: Location with scheme and the request\'s host');
ok($tf->handle_http({ REQUEST => ["GET /sub HTTP/1.0"],
    RESPONSE => [{ 'HTTP-Status' => 301, 'Location' => 'http://localhost:' . $tf->port . '/sub/' }] }) == 0,
   'without Host: the local address, 127.0.0.1 as localhost, with the port');
{
    my $x = $tf->http_exchange("GET /dir/ HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    my $r = $x->{responses}[0];
    my $html = $r ? $r->body : '';
    is($r ? $r->header('Content-Type') : '', 'text/html;charset=utf-8', 'dir-listing.encoding: the charset');
    like($html, qr{<meta charset="utf-8">}, '... and the meta tag');
    like($html, qr{<link rel="stylesheet" type="text/css" href="/s\.css">}, 'dir-listing.external-css');
    like($html, qr{<script type="text/javascript" src="/s\.js"></script>}, 'dir-listing.external-js');
    like($html, qr{<div class="foot">custom <b>footer</b></div>}, 'dir-listing.set-footer');
    like($html, qr{<a href="\.\./">}, 'the parent row is there');
    unlike($html, qr{file\.txt}, 'dir-listing.exclude: file.txt is not listed');
}
{
    my $r = $tf->http_exchange("GET /utf/ HTTP/1.0\r\n\r\n")->{responses}[0];
    my @names = ($r ? $r->body : '') =~ /<a href="([^"]+)">/g;
    is("@names", '../ plain.txt',
       'dir-listing.exclude in UTF mode: `.` matches é, a Latin-1 name is left out');
}
# show-header / show-readme: the files' contents in <pre> blocks, escaped,
# before the title and after the table; hide-*-file drops the file's row.
sub listing { my ($x) = $tf->http_exchange("GET $_[0] HTTP/1.0\r\n\r\n")->{responses}[0]; return $x ? $x->body : '' }
{
    my $html = listing('/readme/');
    like($html, qr{<body>\n<pre class="header">Header&#x0A;</pre><h2>Index of /readme/</h2>}, 'show-header: HEADER.txt before the title');
    like($html, qr{</table>\n</div>\n<pre class="readme">Read &#x3C;me&#x3E; &#x26; &#x22;quote&#x22;&#x0A;&#x09;tab&#x0A;</pre><div class="foot">},
         'show-readme: README.txt after the table, minimal XML encoding');
    unlike($html, qr{>README\.txt<}, 'hide-readme-file: README.txt is not listed');
    like($html, qr{>HEADER\.txt<}, 'HEADER.txt is listed (hide-header-file is off)');
    $html = listing('/readme/raw/');
    like($html, qr{<body>\n<p class="h">raw header</p>\n<h2>}, 'encode-header disable: a named file, as it is');
    unlike($html, qr{>head\.html<}, 'hide-header-file: the named file is not listed');
    like($html, qr{</div>\n<div class="foot">}, 'an empty readme file adds nothing');
    unlike($html, qr{>empty\.txt<}, 'hide-readme-file from the enclosing block hides the named readme, empty.txt');
    $html = listing('/readme/abs/');
    like($html, qr{</div>\n<p class="h">raw header</p>\n<div class="foot">}, 'show-readme with an absolute path');
    # 1.4.69 reads "disable" as an empty name, i.e. the directory itself,
    # and prints an empty <pre class="header"></pre> (doc/compat.md).
    like($html, qr{<body>\n<h2>}, 'show-header disable: no header') unless $reference;
    like($html, qr{>head\.html<}, 'hide-readme-file does not hide a same-named file for an absolute path');
    like($html, qr{<tr class="d"><td class="n"><a href="link-to-raw/">link-to-raw</a>/</td>},
         'a symlink to a directory is listed as a directory');
    unlike($html, qr{dangling}, 'a dangling symlink is left out');
}
# dir-listing.cache: the page is written under the cache path, served from
# there while younger than max-age (Cache-Control says for how long), and
# made again once older.
{
    my $get = sub { return $tf->http_exchange("GET /cached/ HTTP/1.0\r\n\r\n")->{responses}[0] };
    my $r = $get->();
    is($r ? $r->header('Cache-Control') : '', 'max-age=30', 'dir-listing.cache: Cache-Control: max-age');
    ok($r && $r->header('ETag'), '... and an ETag');
    like($r ? $r->body : '', qr{>one\.txt<}, '... on the listing');
    my $file = $tf->tmpdir . '/dlcache' . LightyTest::srcdir() . '/docroot/cached/dirlist.html';
    ok(-f $file, 'the page is kept as <path><directory>dirlist.html');
    open(my $fh, '>', $file) or die $!; print $fh 'from the cache'; close $fh;
    $r = $get->();
    is($r ? $r->body : '', 'from the cache', 'a fresh cache file is served as it is');
    like($r ? $r->header('Cache-Control') : '', qr/^max-age=(?:29|30)$/, '... with the seconds it has left');
    utime(time - 60, time - 60, $file);
    sleep 2; # 1.4.69 trusts its stat cache for about a second
    $r = $get->();
    like($r ? $r->body : '', qr{>one\.txt<}, 'an expired one is made again');
    is($r ? $r->header('Cache-Control') : '', 'max-age=30', '... with the full max-age');
}
my $file = LightyTest::slurp_file(LightyTest::srcdir() . '/docroot/dir/file.txt');
for my $path ('/al/file.txt', '/alnos/file.txt') {
    ok($tf->handle_http({ REQUEST => ["GET $path HTTP/1.0"],
        RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => $file }] }) == 0,
       "alias.url maps $path into docroot/dir/");
}
ok($tf->handle_http({ REQUEST => ["GET /alnos../hello.txt HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 403 }] }) == 0,
   'alias.url: ".." right after a key without "/" mapped to a dir with "/" is 403');
# index-file.names naming a directory: it is taken all the same, and a
# directory is no file to send (lighttpd 1.4.69: 403, no listing)
$tf->http_ok({ REQUEST => ["GET /ixdir/ HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 403 }] },
   'an index-file name that is a directory: 403');
# server.error-handler to a directory listing: the listing's own 200; to a
# static page: the page under the error's status
$tf->http_ok({ REQUEST => ["GET /ehdl/x HTTP/1.0"],
    RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => qr{Index of /dir/} }] },
   'error-handler to a directory listing: 200 and the listing');
$tf->http_ok({ REQUEST => ["GET /ehst/x HTTP/1.0"],
    RESPONSE => [{ 'HTTP-Status' => 404, 'HTTP-Content' => $hello }] },
   'error-handler to a static page: the page under 404');
$tf->http_ok({ RAW => "POST /dir/file.txt HTTP/1.0\r\nContent-Length: 5000\r\n\r\n",
    RESPONSE => [{ 'HTTP-Status' => 413, 'HTTP-Content' => $hello }] },
   'a 413 (server.max-request-size) goes to the error handler');
$tf->http_ok({ REQUEST => ["GET /dir/file.txt HTTP/1.1\nHost: x\nConnection: close\nRange: bytes=999-"],
    RESPONSE => [{ 'HTTP-Status' => 416, 'HTTP-Content' => qr{<title>416 Range Not Satisfiable</title>} }] },
   'a 416 does not (the range step comes after the error handlers)');
$tf->http_ok({ REQUEST => ["GET /ehdl/x HTTP/1.1\nHost: x\nConnection: close\nRange: bytes=0-8"],
    RESPONSE => [{ 'HTTP-Status' => 206, 'Content-Range' => qr{^bytes 0-8/}, 'HTTP-Content' => '<!DOCTYPE' }] },
   'error-handler to a listing: Range applies to the listing');
$tf->http_ok({ RAW => "POST /ehdl/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\nRange: bytes=0-8\r\n\r\n",
    RESPONSE => [{ 'HTTP-Status' => 200, '-Accept-Ranges' => '', '-Content-Range' => '', 'HTTP-Content' => qr{Index of /dir/} }] },
   '... but not for a POST, and no Accept-Ranges then');
$tf->http_ok({ REQUEST => ["HEAD /ehdl/x HTTP/1.0"],
    RESPONSE => [{ 'HTTP-Status' => 200, '-HTTP-Content' => '', '+Content-Length' => '' }] },
   'error-handler to a listing for a HEAD: no body');
# conditions of blocks with only static-file.* options see the URL path
# mod_staticfile sees
$tf->http_ok({ REQUEST => ["GET /hello.txt/extra HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 403 }] },
   'a static-file block is decided on the URL path without PATH_INFO (disable-pathinfo: 403)');
$tf->http_ok({ REQUEST => ["GET /index.html/extra HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 200 }] },
   '... which another file does not match (PATH_INFO allowed)');
$tf->http_ok({ REQUEST => ["GET /sub/ HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 200, '-ETag' => '' }] },
   '... and on the index file\'s URL path for a directory (etags off for .../index.html)');
$tf->http_ok({ REQUEST => ["GET /hello.txt HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 200, '+ETag' => '' }] },
   '... while other files keep their ETag');
$tf->stop_proc;
done_testing();
