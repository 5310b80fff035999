#!/usr/bin/perl
# server.errorlog = "|command": the lines reach the command, and a command
# that dies is started again at once when it had run for more than 5 s (as
# lighttpd does), so later lines are not lost. (A command dying sooner is
# retried by 1.4.69 every 64 s, by us each second after the 5 s.) The same
# for server.breakagelog = "|command", which the FastCGI procs write to.

use strict;
use warnings;
use Test::More;
use LightyTest qw(strip_log_prefix topdir);

my $tf = LightyTest->new(config => 'pipe-log.conf');
ok($tf->start_proc == 0, 'server starts; "server started" reaches the piped logger')
    or do { done_testing(); exit };
my $pid = $tf->pid;
my ($logger) = grep { /\d/ } split ' ', (LightyTest::slurp_file("/proc/$pid/task/$pid/children") // '');
ok($logger, "the logger runs as a child ($logger)") or do { $tf->stop_proc; done_testing(); exit };
sleep 6; # an immediate restart needs 5 s since the last start
kill 'KILL', $logger;
my $again;
for (1 .. 30) {
    ($again) = grep { /\d/ && $_ != $logger } split ' ', (LightyTest::slurp_file("/proc/$pid/task/$pid/children") // '');
    last if $again;
    select(undef, undef, undef, 0.1);
}
ok($again && $again != $logger, "a new logger was started ($again)");
kill 'HUP', $pid;
my $seen = 0;
for (1 .. 50) {
    last if ($seen = strip_log_prefix($tf->error_log) =~ /^logfiles cycled UID = \d+ PID = \d+$/m);
    select(undef, undef, undef, 0.1);
}
ok($seen, 'a line logged after the restart reaches the new logger');
$tf->stop_proc;

# server.breakagelog = "|command": the spawned procs' stderr goes there.
my $resp = topdir() . '/target/release/examples/fcgi_responder';
SKIP: {
    skip 'build the test responder first', 2 unless -x $resp;
    $tf = LightyTest->new(config => 'pipe-breakage.conf', env => { RESP => $resp });
    ok($tf->start_proc == 0, 'server starts with a piped breakage log') or last;
    $tf->http_exchange("GET /r?proc-stderr=through-the-pipe HTTP/1.0\r\n\r\n");
    my $got = '';
    for (1 .. 50) {
        last if ($got = LightyTest::slurp_file($tf->tmpdir . '/breakage.log') // '') =~ /through-the-pipe/;
        select(undef, undef, undef, 0.1);
    }
    like($got, qr/^through-the-pipe$/m, 'a proc\'s stderr reaches the breakage log command');
    $tf->stop_proc;
}
done_testing();
