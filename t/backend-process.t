#!/usr/bin/perl
# What a daemonized server hands the programs it starts (a bin-path
# FastCGI backend, a piped error logger), as 1.4.69's fdevent_fork_execve
# does: stdin the backend's socket (the logger's pipe), stdout /dev/null,
# no other descriptor of the server (the daemon's readiness pipe once
# leaked into them: a parent waiting for a start that failed waited for
# them too), and the default action for SIGTTOU, SIGTTIN and SIGTSTP
# even though the daemon ignores them (here the test ignores them too, so
# that a server that passes its own dispositions on is caught).

use strict;
use warnings;
use Test::More;
use LightyTest qw(srcdir slurp_file run_lighttpd free_port responder_exe wait_until);

$SIG{$_} = 'IGNORE' for qw(TTOU TTIN TSTP);

my $d = LightyTest->new(config => 'backend-process.conf', socket_activation => 0);
my $dir = $d->tmpdir;
my %env = (PORT => free_port(), SRCDIR => srcdir(), TESTTMPDIR => $dir, RESPONDER => responder_exe());
my $run = run_lighttpd(args => ['-f', srcdir() . '/conf/backend-process.conf'], env => \%env, timeout => 10);
is($run->{exit}, 0, 'the daemon starts') or diag($run->{stderr} // '');
my $pid;
ok(wait_until(sub { ($pid) = (slurp_file("$dir/lighttpd.pid") // '') =~ /^(\d+)$/m; $pid }, 5), 'it writes its pid file');
$pid //= 0;

sub children { my ($p) = @_; return split ' ', (slurp_file("/proc/$p/task/$p/children") // '') }
sub comm { my $c = slurp_file("/proc/$_[0]/comm") // ''; chomp $c; $c }
my @kids;
ok(wait_until(sub { @kids = children($pid); @kids >= 2 }, 5), 'it has started its backend and its logger')
    or diag("children: @kids");
my ($backend) = grep { comm($_) eq 'fcgi_responder' } @kids;
my ($logger)  = grep { comm($_) eq 'sh' || comm($_) eq 'cat' } @kids;

for my $c ([backend => $backend, qr/^socket:/], [logger => $logger, qr/^pipe:/]) {
    my ($name, $p, $stdin) = @$c;
    SKIP: {
        skip("no $name found among the children (@kids)", 4) unless $p;
        like(readlink("/proc/$p/fd/0") // '', $stdin, "$name: stdin is its " . ($name eq 'backend' ? 'socket' : 'pipe'));
        if ($name eq 'backend') {
            is(readlink("/proc/$p/fd/1") // '', '/dev/null', "$name: stdout is /dev/null");
        } else {
            pass("$name: stdout is its command's (here a file)");
        }
        # (what this test process itself passes on is not the server's)
        my @fds = grep { /^\d+$/ && $_ > 2 } map { s{.*/}{}r } glob("/proc/$p/fd/*");
        my @ours = grep {
            my $t = readlink("/proc/$p/fd/$_") // '';
            $t =~ /^(pipe|socket|anon_inode):/ && $t ne (readlink("/proc/$$/fd/$_") // '')
        } @fds;
        is("@ours", '', "$name: no other pipe or socket of the server");
        my ($ign) = (slurp_file("/proc/$p/status") // '') =~ /^SigIgn:\s*([0-9a-f]+)$/m;
        is(defined $ign ? hex(substr($ign, -8)) & 0x380000 : -1, 0,
           "$name: SIGTTOU, SIGTTIN and SIGTSTP at their default action");
    }
}
kill 'TERM', $pid if $pid;
ok($pid && wait_until(sub { !kill 0, $pid }, 5), 'the daemon stops');
done_testing();
