#!/usr/bin/perl
# kill-signal (fastcgi.md §1, §3): when the server stops, each bin-path proc
# gets its host's kill-signal (default SIGTERM). The procs here only write
# down the signal they got. Expected as lighttpd 1.4.69 does it.

use strict;
use warnings;
use Test::More;
use LightyTest;

my $tf = LightyTest->new(config => 'fastcgi-kill-signal.conf');
ok($tf->start_proc == 0, 'server starts and spawns both procs') or do { done_testing(); exit };
my $tmp = $tf->tmpdir;
# Give the procs time to install their handlers.
select(undef, undef, undef, 0.5);
ok(-S "$tmp/default.sock-0" && -S "$tmp/usr1.sock-0", 'both procs have their socket');
# SIGTERM to the server alone, then wait for the procs' answers: the
# harness's stop_proc ends by sending SIGTERM to whatever is left in the
# server's process group, which on a loaded machine could reach the procs
# before the kill-signal the server sent them was handled.
kill 'TERM', $tf->{LIGHTTPD_PID};
my %got;
for (1 .. 50) {
    for my $h ('default', 'usr1') {
        my $d = LightyTest::slurp_file("$tmp/$h.sig");
        $got{$h} //= $d if defined $d && $d =~ /\n\z/;    # written whole
    }
    last if defined $got{default} && defined $got{usr1};
    select(undef, undef, undef, 0.1);
}
$tf->stop_proc;
is($got{default} // 'nothing', "TERM\n", 'without kill-signal: SIGTERM');
is($got{usr1} // 'nothing', "USR1\n", 'kill-signal => 10: SIGUSR1');
done_testing();
