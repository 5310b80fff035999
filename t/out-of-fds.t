#!/usr/bin/perl
# server.max-fds as 1.4.69 guards it (http-core.md, issue 3 item 1): once
# more than 90% of the descriptors are in use (here: clients whose FastCGI
# backend never answers, two descriptors each) the listening socket leaves
# the poll with "[note] sockets disabled, out-of-fds", so a further client
# waits in the backlog, neither accepted nor dropped; when the descriptors
# are given back (the backend goes away and the waiting requests are
# answered) it returns with "[note] sockets enabled again" and the waiting
# client is served. The connection limit (32) is not what stops it.

use strict;
use warnings;
use Test::More;
use IO::Socket::INET;
use IO::Socket::UNIX;
use IO::Select;
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep time);
use LightyTest qw(strip_log_prefix);

my $tmp = tempdir(CLEANUP => 1);
# A backend that lets connections wait in its backlog and never answers.
my $hang = IO::Socket::UNIX->new(Local => "$tmp/hang.sock", Listen => 128) or die $!;

my $tf = LightyTest->new(config => 'out-of-fds.conf', env => { SOCK_HANG => "$tmp/hang.sock" });
ok($tf->start_proc == 0, 'server starts with server.max-fds = 64') or do { done_testing(); exit };

sub fds { my @f = glob('/proc/' . $tf->pid . '/fd/*'); return scalar @f }
sub wait_for { my ($cond) = @_; my $until = time + 5; until ($cond->()) { return 0 if time > $until; sleep 0.02 } return 1 }
sub disabled { strip_log_prefix($tf->error_log) =~ /^\[note\] sockets disabled, out-of-fds$/m }

my @held;
for (1 .. 31) {
    my $before = fds();
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $tf->port, Proto => 'tcp') or die $!;
    print $s "GET /hang HTTP/1.1\r\nHost: a\r\n\r\n";
    push @held, $s;
    # Accepted and sent on to the backend (two more descriptors), or the
    # listener just left the poll.
    wait_for(sub { fds() >= $before + 2 || disabled() });
    last if disabled();
}
ok(disabled(), 'with over 90% of max-fds in use: "[note] sockets disabled, out-of-fds" after '
   . scalar(@held) . ' clients');
unlike(strip_log_prefix($tf->error_log), qr/connection limit reached/, 'not the connection limit');

# The last client's request may reach the backend a moment after the
# listener left the poll: let the count settle.
my $before = fds();
for (1 .. 20) { sleep 0.2; my $now = fds(); last if $now == $before; $before = $now }
my $waiting = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $tf->port, Proto => 'tcp') or die $!;
print $waiting "GET /hello.txt HTTP/1.0\r\n\r\n";
ok(!IO::Select->new($waiting)->can_read(1), 'a further client is neither answered nor closed');
is(fds(), $before, 'nor accepted: the server holds no more descriptors');

# The backend goes away: the requests waiting on it fail and give their
# descriptors back.
close $hang;
unlink "$tmp/hang.sock";
my $answered = 0;
for my $s (@held) {
    next unless IO::Select->new($s)->can_read(5);
    my $n = sysread($s, my $buf, 4096);
    $answered++ if $n && $buf =~ m{\AHTTP/1\.1 5\d\d };
}
is($answered, scalar(@held), 'the requests on the vanished backend are answered (5xx)');
close $_ for @held;
ok(IO::Select->new($waiting)->can_read(5), 'then the waiting client is accepted and answered');
my $n = sysread($waiting, my $buf, 4096);
like($buf // '', qr{\AHTTP/1\.0 200 OK\r\n}, 'with its file');
like(strip_log_prefix($tf->error_log), qr/^\[note\] sockets enabled again$/m, '"[note] sockets enabled again"');
$tf->stop_proc;
done_testing();
