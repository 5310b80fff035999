#!/usr/bin/perl
# server.feature-flags "server.graceful-restart-bg": on SIGUSR1 the
# connections in progress go on in a process of their own (the previous
# generation, "[note] pid N continuing to handle 1 connection(s) in
# progress") and the server, same pid, serves with the configuration read
# again at once; once it is up it sends the previous generation SIGINT,
# which finishes the download and stops ("server stopped by" naming the
# server). Expected values are lighttpd 1.4.69's.

use strict;
use warnings;
use Test::More;
use Time::HiRes ();
use File::Temp qw(tempdir);
use POSIX qw(WNOHANG);
use LightyTest qw(strip_log_prefix wait_until docroot_with_download install_exe lighttpd_exe
    start_download finish_download);

$ENV{BG_ROOT} = docroot_with_download(32);

# Started from a copy of the binary, which is replaced before the restart.
my $exe = install_exe(lighttpd_exe(), tempdir(CLEANUP => 1) . '/lighttpd');
my $tf = LightyTest->new(config => 'restart-bg.conf', exe => $exe);
my $extra = "$tf->{TMPDIR}/extra.conf";
open(my $fh, '>', $extra) or die "$extra: $!";
close $fh;
ok($tf->start_proc == 0, 'server starts') or do { done_testing(); exit };
my $pid = $tf->pid;
sub count { my ($re) = @_; my @m = strip_log_prefix($tf->error_log) =~ /$re/mg; return scalar @m }

# A slow client: the head read, the rest waits in the socket buffers.
my ($s, $got) = start_download($tf->port);
like($got, qr{^HTTP/1\.0 200 }, 'a slow client starts a 32 MB download');

install_exe(lighttpd_exe(), $exe);
is(readlink("/proc/$pid/exe"), "$exe (deleted)", 'the binary is replaced under the running server');
kill 'USR1', $pid;
ok(wait_until(sub { count(qr{^server started }m) == 2 }, 5), 'SIGUSR1: started again at once');
is(readlink("/proc/$pid/exe"), $exe, '... by running argv[0] again: the binary installed now');
my $r = $tf->http_exchange("GET /hello.txt HTTP/1.0\r\n\r\n")->{responses}[0];
is($r ? $r->code . ' ' . $r->body : 'no answer', "200 Hello, World!\n",
   '... and answering while the download is in progress');
is(kill(0, $pid), 1, '... in the same process');
my ($prev) = strip_log_prefix($tf->error_log) =~ /^\[note\] pid (\d+) continuing to handle 1 connection\(s\) in progress$/m;
ok($prev && $prev != $pid, 'the download goes on in another process, which says so');

my $n = finish_download($s, length $got);
ok($n > 32 << 20, "the download completes ($n bytes)");
ok($prev && wait_until(sub { !kill 0, $prev }, 10), 'then the previous generation exits (reaped)');
is(count(qr{^server stopped by UID = \d+ PID = $pid$}m), 1, '... told to by the restarted server');
is(count(qr{^\[note\] graceful shutdown started$}m), 2, 'the graceful note: at SIGUSR1, and in the previous generation');
$r = $tf->http_exchange("GET /hello.txt HTTP/1.0\r\n\r\n")->{responses}[0];
is($r ? $r->code : 0, 200, 'the server goes on');

# A restart whose configuration is broken: the restarted process exits,
# and the previous generation, which still listens, serves on.
open($fh, '>', $extra) or die "$extra: $!";
print $fh "this is not a config\n";
close $fh;
kill 'USR1', $pid;
my $status;
ok(wait_until(sub { waitpid($pid, WNOHANG) == $pid and $status = $?; defined $status }, 10),
   'a restart with a broken configuration: the server exits');
delete $tf->{LIGHTTPD_PID};
is(defined $status ? $status >> 8 : -1, 255, '... with status 255');
my @prev = strip_log_prefix($tf->error_log) =~ /^\[note\] pid (\d+) continuing to handle 0 connection\(s\) in progress$/mg;
is(scalar @prev, 1, '... after forking off the previous generation');
$r = $tf->http_exchange("GET /hello.txt HTTP/1.0\r\n\r\n")->{responses}[0];
is($r ? $r->code : 0, 200, 'which goes on serving');
ok(@prev && kill('INT', $prev[0]) && wait_until(sub { !kill 0, $prev[0] }, 10),
   'until told to finish');
done_testing();
