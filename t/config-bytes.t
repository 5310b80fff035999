#!/usr/bin/perl
# A byte that is not UTF-8 in a configured name is that byte where the name
# is used, as lighttpd (which handles config strings as bytes) does: the
# pid file, the error and breakage logs, the upload directory a large
# request body is spooled to, the errorfile-prefix page, a FastCGI bin-path
# program, its socket and its bin-environment, a unix-socket listener.
# (The document root is covered in t/http-core.t.)

use strict;
use warnings;
use Test::More;
use IO::Socket::UNIX;
use Socket qw(SOCK_STREAM);
use LightyTest qw(topdir);

my $resp = topdir() . '/target/release/examples/fcgi_responder';
plan skip_all => "build the test responder first: cargo build --release --example fcgi_responder"
    unless -x $resp;

# The error log has a Latin-1 name too: the harness does not wait for
# its own error.log, this test reads that one.
my $tf = LightyTest->new(config => 'config-bytes.conf', ready_pattern => undef);
my $tmp = $tf->tmpdir;
symlink($resp, "$tmp/r\xe9sp") or die "symlink: $!";
mkdir("$tmp/u\xe9") or die "mkdir: $!";
LightyTest::_spew_file("$tmp/e\xe9-404.html", "latin 404\n");
ok($tf->start_proc == 0, 'server starts') or do { done_testing(); exit };
my $started = 0;
for (1 .. 100) {
    $started = 1, last if (LightyTest::slurp_file("$tmp/l\xe9.log") // '') =~ /server started/;
    select(undef, undef, undef, 0.05);
}
ok($started, 'server.errorlog: opened under its real name, and the server started (its bin-path program found)');

sub get {
    my ($req) = @_;
    my $x = $tf->http_exchange($req);
    my $r = $x->{responses}[0] or return 'no response';
    return $r->code . ' ' . $r->body;
}

is(get("GET /latin?id HTTP/1.0\r\n\r\n"), "200 caf\xe9", 'bin-environment: the value reaches the program as bytes');
ok(-S "$tmp/s\xe9.sock-0", 'the proc\'s socket has the byte in its name');
is(LightyTest::slurp_file("$tmp/p\xe9.pid"), $tf->pid . "\n", 'server.pid-file: written under its real name');
is(get("GET /latin?proc-stderr=to-breakage HTTP/1.0\r\n\r\n"), '200 ', 'the program writes to its stderr');
like(LightyTest::slurp_file("$tmp/b\xe9.log") // '', qr/^to-breakage$/m, 'server.breakagelog: opened under its real name');
my $body = 'x' x (200 * 1024);
is(get("POST /latin?count-stdin HTTP/1.0\r\nContent-Length: " . length($body) . "\r\n\r\n$body"),
   '200 stdin=' . length($body), 'a body larger than memory is spooled to server.upload-dirs');
is(get("GET /no-such-file HTTP/1.0\r\n\r\n"), "404 latin 404\n", 'server.errorfile-prefix: the page is found');

# A unix-socket listener ($SERVER["socket"]) named with the byte.
my $us = IO::Socket::UNIX->new(Peer => "$tmp/l\xe9.sock", Type => SOCK_STREAM);
ok($us, 'a unix-socket listener: bound under its real name');
if ($us) {
    print $us "GET /latin?id HTTP/1.0\r\n\r\n";
    my $reply = do { local $/; <$us> } // '';
    like($reply, qr{^HTTP/1\.0 200 .*\r\n\r\ncaf\xe9\z}s, '... and it serves');
}

$tf->stop_proc;
ok(!-e "$tmp/p\xe9.pid", 'the pid file is removed at exit');
done_testing();
