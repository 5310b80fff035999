#!/usr/bin/perl
# A live handover between lighttpd 1.4.69 and this server, both ways, by
# server.graceful-restart-bg: the running server's binary is replaced by
# the other one and SIGUSR1 sent. The new binary takes the listening
# sockets over (socket activation, LISTEN_FDS), serves the next requests,
# and tells the previous generation (LIGHTTPD_PREV_GEN), which finishes a
# download in progress, to stop. Skipped without the reference binary
# (LIGHTTPD_REF_PATH, default /usr/sbin/lighttpd).

use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use LightyTest qw(strip_log_prefix wait_until docroot_with_download install_exe lighttpd_exe
    start_download finish_download);

my $ref = $ENV{LIGHTTPD_REF_PATH} || '/usr/sbin/lighttpd';
plan skip_all => "no reference lighttpd at $ref" unless -x $ref;
my $ours = lighttpd_exe();
plan skip_all => "the binary under test is the reference ($ref): nothing to hand over between"
    if (stat $ours)[1] == (stat $ref)[1] && (stat $ours)[0] == (stat $ref)[0];
# Whose lines: our origins are Rust files, 1.4.69's C files.
my %origin = (ours => qr/\(cli\.rs\.\d+\) server started/, ref => qr/\(server\.c\.\d+\) server started/);

$ENV{BG_ROOT} = docroot_with_download(32);

for my $way ([ref => $ref, ours => $ours], [ours => $ours, ref => $ref]) {
    my ($from, $from_exe, $to, $to_exe) = @$way;
    my $exe = install_exe($from_exe, tempdir(CLEANUP => 1) . '/lighttpd');
    my $tf = LightyTest->new(config => 'restart-bg.conf', exe => $exe);
    open(my $fh, '>', "$tf->{TMPDIR}/extra.conf") or die $!;
    close $fh;
    ok($tf->start_proc == 0, "$from: starts") or next;
    my $pid = $tf->pid;
    my $log = sub { strip_log_prefix($tf->error_log) };
    my ($s, $got) = start_download($tf->port);
    like($got, qr{^HTTP/1\.0 200 }, "$from: a slow client starts a 32 MB download");

    install_exe($to_exe, $exe);
    kill 'USR1', $pid;
    ok(wait_until(sub { $tf->error_log =~ $origin{$to} }, 10), "$to: started by SIGUSR1 in its place");
    is(readlink("/proc/$pid/exe"), $exe, "$to: ... in the same process");
    my $r = $tf->http_exchange("GET /hello.txt HTTP/1.0\r\n\r\n")->{responses}[0];
    is($r ? $r->code . ' ' . $r->body : 'no answer', "200 Hello, World!\n", "$to: answers");
    my $prev;
    ok(wait_until(sub { ($prev) = $log->() =~ /^\[note\] pid (\d+) continuing to handle 1 connection\(s\) in progress$/m; $prev }, 5),
       "$from: the download goes on in the previous generation");

    my $n = finish_download($s, length $got);
    ok($n > 32 << 20, "$from: the download completes ($n bytes)");
    ok($prev && wait_until(sub { !kill 0, $prev }, 10), "$from: then the previous generation exits");
    like($log->(), qr/^server stopped by UID = \d+ PID = $pid$/m, "$from: ... told to by $to");
    ok($tf->stop_proc == 0, "$to: stops");
}
done_testing();
