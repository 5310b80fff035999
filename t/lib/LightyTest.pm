package LightyTest;

# Test harness for lighttpd-rs.  Original code written for this project;
# see the POD at the end of this file for the API.

use strict;
use warnings;

use Cwd qw(abs_path getcwd);
use Errno qw(EINTR EAGAIN);
use Exporter qw(import);
use Fcntl qw(F_SETFD);
use File::Basename qw(dirname);
use File::Path qw(make_path remove_tree);
use File::Spec;
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use POSIX qw(WNOHANG dup2 _exit);
use Socket qw(SHUT_WR);
use Test::More ();
use Time::HiRes qw(sleep time);

our $VERSION = '0.01';

our @EXPORT_OK = qw(
    lighttpd_exe srcdir topdir run_lighttpd strip_log_prefix log_messages
    slurp_file parse_responses responder_exe start_responder responder_socket
    free_port wait_until docroot_with_download install_exe
    start_download finish_download
);
our %EXPORT_TAGS = (all => \@EXPORT_OK);

# ---------------------------------------------------------------------------
# locations

my $START_CWD;
my $T_DIR;      # absolute path of t/
my $TOP_DIR;    # absolute path of the repository root

BEGIN {
    $START_CWD = getcwd();
    my $me = abs_path(__FILE__);          # .../t/lib/LightyTest.pm
    $T_DIR = abs_path(dirname($me) . '/..');
    $TOP_DIR = abs_path("$T_DIR/..");
}

# default timeout (seconds) for starting/stopping the server, HTTP reads and
# command runs; LIGHTTPD_TEST_TIMEOUT raises it for slow machines/valgrind.
our $TIMEOUT = ($ENV{LIGHTTPD_TEST_TIMEOUT} && $ENV{LIGHTTPD_TEST_TIMEOUT} > 0)
    ? $ENV{LIGHTTPD_TEST_TIMEOUT} : 10;

sub srcdir { return $T_DIR }
sub topdir { return $TOP_DIR }

sub lighttpd_exe {
    my $p = $ENV{LIGHTTPD_EXE_PATH};
    return "$TOP_DIR/target/release/lighttpd" unless defined $p && length $p;
    return File::Spec->rel2abs($p, $START_CWD);
}

sub _tmpbase {
    my $base = $ENV{LIGHTTPD_TEST_TMPBASE};
    $base = "$T_DIR/tmp" unless defined $base && length $base;
    make_path($base) unless -d $base;
    return $base;
}

sub _new_tmpdir {
    my ($tag) = @_;
    return tempdir("$tag-XXXXXX", DIR => _tmpbase(), CLEANUP => 0);
}

sub _tests_passing {
    my $ok = eval { Test::More->builder->is_passing };
    return defined $ok ? $ok : 1;
}

# Our FastCGI test responder (examples/fcgi_responder, built by cargo).
sub responder_exe { return "$TOP_DIR/target/release/examples/fcgi_responder" }

# Starts the responder listening on the unix socket PATH (its output to
# /dev/null) and waits up to 2.5 s for the socket. Returns its pid; the
# caller stops it (kill, waitpid).
sub start_responder {
    my ($path) = @_;
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        open(STDOUT, '>', '/dev/null');
        open(STDERR, '>', '/dev/null');
        exec responder_exe(), '--listen', $path or _exit(127);
    }
    for (1 .. 50) { last if -S $path; sleep(0.05) }
    return $pid;
}

# The test responder on a unix socket of its own for the whole test file:
# skips the file (plan skip_all) when the responder is not built; stopped
# when the test process ends. Returns the socket's path.
my @RESPONDERS;
my $RESPONDER_OWNER = $$;
sub responder_socket {
    Test::More::plan(skip_all =>
        'build the test responder first: cargo build --release --example fcgi_responder')
        unless -x responder_exe();
    my $sock = tempdir(CLEANUP => 1) . '/resp.sock';
    push @RESPONDERS, start_responder($sock);
    return $sock;
}
END {
    local $?;
    if ($$ == $RESPONDER_OWNER) {
        for my $pid (@RESPONDERS) { kill 'TERM', $pid; waitpid($pid, 0) }
    }
}

sub slurp_file {
    my ($path) = @_;
    open(my $fh, '<:raw', $path) or return undef;
    local $/;
    my $data = <$fh>;
    close $fh;
    return defined $data ? $data : '';
}

sub _spew_file {
    my ($path, $data) = @_;
    open(my $fh, '>:raw', $path) or die "cannot write $path: $!";
    print {$fh} $data;
    close $fh or die "cannot write $path: $!";
}

sub _diag { Test::More::diag(@_) }

sub _diag_text {
    my ($title, $text, $max) = @_;
    $max ||= 4000;
    return unless defined $text && length $text;
    if (length($text) > $max) {
        $text = '[... ' . (length($text) - $max) . ' bytes elided ...]'
              . substr($text, -$max);
    }
    _diag("---- $title ----\n$text" . ($text =~ /\n\z/ ? '' : "\n") . "---- end of $title ----");
}

# ---------------------------------------------------------------------------
# log helpers

# lighttpd error-log lines look like
#   "2026-11-25 10:43:20: (configfile.c.2259) message"
my $LOG_PREFIX_RE = qr/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d: \([^()\s]*\) /m;

sub strip_log_prefix {
    my ($text) = @_;
    return undef unless defined $text;
    (my $copy = $text) =~ s/$LOG_PREFIX_RE//g;
    return $copy;
}

sub log_messages {
    my ($text) = @_;
    return () unless defined $text && length $text;
    return split /\n/, strip_log_prefix($text);
}

# ---------------------------------------------------------------------------
# running the binary with arbitrary arguments

sub _wait_pid {
    # wait for $pid up to $timeout seconds; returns wait status or undef
    my ($pid, $timeout) = @_;
    my $deadline = time() + $timeout;
    while (1) {
        my $r = waitpid($pid, WNOHANG);
        return $? if $r == $pid;
        # Not our child any more: a test reaped it already (then it is
        # gone, status unknown: 0), or it is not ours at all.
        return (kill(0, $pid) ? undef : 0) if $r < 0;
        return undef if time() >= $deadline;
        sleep(0.01);
    }
}

sub run_lighttpd {
    my %o = @_;
    my $exe = defined $o{exe} ? $o{exe} : lighttpd_exe();
    my @args = @{ $o{args} || [] };
    my $timeout = defined $o{timeout} ? $o{timeout} : $TIMEOUT;
    my $cwd = defined $o{cwd} ? $o{cwd} : $START_CWD;

    my $dir = _new_tmpdir('run');
    my ($in, $out, $err) = map { "$dir/$_" } qw(stdin stdout stderr);
    _spew_file($in, defined $o{stdin} ? $o{stdin} : '');

    my $pid = fork();
    die "fork failed: $!" unless defined $pid;
    if ($pid == 0) {
        # child
        open(STDIN, '<', $in) or _exit(126);
        open(STDOUT, '>', $out) or _exit(126);
        open(STDERR, '>', $err) or _exit(126);
        unless (chdir $cwd) {
            print STDERR "LightyTest: chdir $cwd failed: $!\n";
            _exit(126);
        }
        delete @ENV{qw(LISTEN_FDS LISTEN_PID LISTEN_FDNAMES)};
        my $env = $o{env} || {};
        for my $k (keys %$env) {
            if (defined $env->{$k}) { $ENV{$k} = $env->{$k} }
            else                    { delete $ENV{$k} }
        }
        { no warnings 'exec'; exec {$exe} $exe, @args; }
        print STDERR "LightyTest: exec $exe failed: $!\n";
        _exit(127);
    }

    my $status = _wait_pid($pid, $timeout);
    my $timed_out = 0;
    if (!defined $status) {
        $timed_out = 1;
        kill 'TERM', $pid;
        $status = _wait_pid($pid, 2);
        if (!defined $status) {
            kill 'KILL', $pid;
            $status = _wait_pid($pid, 5);
        }
        $status = -1 unless defined $status;
    }

    my %res = (
        cmd       => [$exe, @args],
        pid       => $pid,
        status    => $status,
        exit      => ($status >= 0 && !($status & 127)) ? ($status >> 8) : undef,
        signal    => ($status >= 0) ? ($status & 127) : undef,
        timed_out => $timed_out,
        stdout    => slurp_file($out),
        stderr    => slurp_file($err),
    );
    remove_tree($dir);

    if ($timed_out) {
        _diag("LightyTest: '@{$res{cmd}}' timed out after ${timeout}s and was killed");
    }
    if (defined $res{exit} && $res{exit} == 127 && !-x $exe) {
        _diag("LightyTest: $exe is not executable (set LIGHTTPD_EXE_PATH?)");
    }
    return \%res;
}

# ---------------------------------------------------------------------------
# server object

sub new {
    my ($class, %o) = @_;
    my $self = bless {}, $class;

    $self->{CONFIGFILE} = defined $o{config} ? $o{config}
                        : defined $o{CONFIGFILE} ? $o{CONFIGFILE}
                        : 'lighttpd.conf';
    $self->{SRCDIR}  = $T_DIR;
    $self->{CONFDIR} = "$T_DIR/conf";
    $self->{TOPDIR}  = $TOP_DIR;
    $self->{LIGHTTPD_PATH} = defined $o{exe} ? $o{exe} : lighttpd_exe();
    $self->{HOST}    = '127.0.0.1';
    $self->{PORT}    = undef;

    my $wrapper = $o{wrapper};
    if (!defined $wrapper && defined $ENV{LIGHTTPD_TEST_WRAPPER}
        && $ENV{LIGHTTPD_TEST_WRAPPER} =~ /\S/) {
        $wrapper = [ split ' ', $ENV{LIGHTTPD_TEST_WRAPPER} ];
    }
    $self->{wrapper} = $wrapper || [];

    my $lp = defined $o{listen_pid} ? $o{listen_pid}
           : defined $ENV{LIGHTTPD_TEST_LISTEN_PID} ? $ENV{LIGHTTPD_TEST_LISTEN_PID}
           : (@{ $self->{wrapper} } ? 'parent' : 'self');
    die "LightyTest: listen_pid must be 'self' or 'parent', not '$lp'"
        unless $lp eq 'self' || $lp eq 'parent';
    $self->{listen_pid} = $lp;

    $self->{socket_activation} = defined $o{socket_activation} ? $o{socket_activation} : 1;
    $self->{keep_listen_socket} = $o{keep_listen_socket} || 0;
    $self->{args}  = $o{args} || [];
    $self->{env}   = $o{env}  || {};
    $self->{startup_timeout} = defined $o{startup_timeout} ? $o{startup_timeout} : $TIMEOUT;
    $self->{stop_timeout}    = defined $o{stop_timeout}    ? $o{stop_timeout}    : $TIMEOUT;
    $self->{http_timeout}    = defined $o{http_timeout}    ? $o{http_timeout}    : $TIMEOUT;
    $self->{ready_pattern}   = exists $o{ready_pattern} ? $o{ready_pattern}
                             : qr/\bserver started\b/;
    $self->{keep_tmpdir} = $o{keep_tmpdir} || $ENV{LIGHTTPD_TEST_KEEP} || 0;

    $self->{TMPDIR} = _new_tmpdir('lighttpd');
    $self->{STDERR_LOG} = "$self->{TMPDIR}/stderr.log";
    $self->{STDOUT_LOG} = "$self->{TMPDIR}/stdout.log";
    $self->{ERROR_LOG}  = "$self->{TMPDIR}/error.log";
    $self->{OWNER_PID}  = $$;
    return $self;
}

sub port     { $_[0]{PORT} }
sub pid      { $_[0]{LIGHTTPD_PID} }
sub tmpdir   { $_[0]{TMPDIR} }
sub exe      { $_[0]{LIGHTTPD_PATH} }
sub stderr_log_path { $_[0]{STDERR_LOG} }
sub error_log_path  { $_[0]{ERROR_LOG} }

sub config_path {
    my $self = shift;
    my $c = $self->{CONFIGFILE};
    return $c if File::Spec->file_name_is_absolute($c);
    return "$self->{CONFDIR}/$c";
}

sub stderr_log { my $d = slurp_file($_[0]{STDERR_LOG}); defined $d ? $d : '' }
sub error_log  { my $d = slurp_file($_[0]{ERROR_LOG});  defined $d ? $d : '' }
sub server_log { my $s = shift; return $s->stderr_log . $s->error_log }

sub _diag_logs {
    my $self = shift;
    _diag_text("lighttpd stderr ($self->{STDERR_LOG})", $self->stderr_log);
    _diag_text("lighttpd stdout ($self->{STDOUT_LOG})", slurp_file($self->{STDOUT_LOG}));
    _diag_text("lighttpd error log ($self->{ERROR_LOG})", $self->error_log);
}

# A TCP port on 127.0.0.1 that nothing listens on now.
sub free_port {
    my $s = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp',
        Listen => 1, ReuseAddr => 1) or die "no free port: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

# Polls $cond every 50 ms for up to $secs seconds; true once it holds.
sub wait_until {
    my ($cond, $secs) = @_;
    for (1 .. $secs * 20) {
        return 1 if $cond->();
        sleep(0.05);
    }
    return 0;
}

# A temporary document root (removed at exit) with hello.txt
# ("Hello, World!\n") and big.bin, $mb MiB: more than the socket buffers
# hold, so a client that does not read keeps its download in progress.
sub docroot_with_download {
    my ($mb) = @_;
    my $root = tempdir(CLEANUP => 1);
    _spew_file("$root/hello.txt", "Hello, World!\n");
    open(my $f, '>', "$root/big.bin") or die "big.bin: $!";
    print $f 'x' x (1 << 20) for 1 .. $mb;
    close $f or die "big.bin: $!";
    return $root;
}

# start_download($port): a slow client of docroot_with_download's big.bin
# on 127.0.0.1:$port: the request sent, the first 4 KiB read, the rest
# left in the socket buffers. Returns (socket, what was read).
sub start_download {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp')
        or die "connect $port: $!";
    print $s "GET /big.bin HTTP/1.0\r\n\r\n";
    my $got = '';
    sysread($s, $got, 4096);
    return ($s, $got);
}

# finish_download($socket, $bytes_so_far): reads the rest until the
# server closes (or nothing comes for 10 s); the total bytes read.
sub finish_download {
    my ($s, $n) = @_;
    my $sel = IO::Select->new($s);
    while ($sel->can_read(10)) {
        my $k = sysread($s, my $buf, 1 << 16);
        last unless $k;
        $n += $k;
    }
    return $n;
}

# install_exe($src, $dest): copies the binary $src to $dest (mode 0755)
# by a rename over it, as a package upgrade replaces a binary: a server
# started from $dest keeps running its old, now deleted, file.
sub install_exe {
    my ($src, $dest) = @_;
    open(my $in, '<:raw', $src) or die "$src: $!";
    open(my $out, '>:raw', "$dest.new") or die "$dest.new: $!";
    local $/;
    print $out scalar <$in>;
    close $out or die "$dest.new: $!";
    chmod 0755, "$dest.new" or die "chmod $dest.new: $!";
    rename "$dest.new", $dest or die "rename $dest: $!";
    return $dest;
}

sub listening_on {
    my ($self, $port) = @_;
    $port = $self->{PORT} unless defined $port;
    my $s = IO::Socket::INET->new(
        PeerAddr => $self->{HOST}, PeerPort => $port, Proto => 'tcp',
        Timeout => 1) or return 0;
    close $s;
    return 1;
}

sub _describe_status {
    my ($st) = @_;
    return 'unknown status' unless defined $st && $st >= 0;
    return 'killed by signal ' . ($st & 127) if $st & 127;
    return 'exit code ' . ($st >> 8);
}

sub start_proc {
    my $self = shift;
    if ($self->{LIGHTTPD_PID}) {
        _diag("LightyTest: server already running (pid $self->{LIGHTTPD_PID})");
        return -1;
    }
    my $conf = $self->config_path;
    if (!-r $conf) {
        _diag("LightyTest: config file $conf not readable");
        return -1;
    }
    my $exe = $self->{LIGHTTPD_PATH};
    if (!-x $exe) {
        _diag("LightyTest: $exe is not executable (set LIGHTTPD_EXE_PATH?)");
        return -1;
    }

    my $lsock;
    if ($self->{socket_activation}) {
        $lsock = IO::Socket::INET->new(
            LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp',
            Listen => 1024, ReuseAddr => 1);
        if (!$lsock) {
            _diag("LightyTest: cannot create listening socket: $!");
            return -1;
        }
        $self->{PORT} = $lsock->sockport;
    } else {
        $self->{PORT} = free_port();
        if (!$self->{PORT}) {
            _diag("LightyTest: cannot find a free port: $!");
            return -1;
        }
    }

    # fresh logs for this run (error.log: remember where this run starts)
    _spew_file($self->{STDERR_LOG}, '');
    _spew_file($self->{STDOUT_LOG}, '');
    $self->{error_log_offset} = -s $self->{ERROR_LOG} || 0;

    my @cmd = (@{ $self->{wrapper} }, $exe, '-D', '-f', $conf, @{ $self->{args} });
    $self->{CMDLINE} = \@cmd;
    my $harness_pid = $$;

    my $pid = fork();
    if (!defined $pid) {
        _diag("LightyTest: fork failed: $!");
        close $lsock if $lsock;
        return -1;
    }
    if ($pid == 0) {
        # child: own process group, so that stop_proc can clean up
        # everything the server (or a wrapper) leaves behind
        setpgrp(0, 0);
        open(STDIN, '<', '/dev/null') or _exit(126);
        open(STDOUT, '>>', $self->{STDOUT_LOG}) or _exit(126);
        open(STDERR, '>>', $self->{STDERR_LOG}) or _exit(126);
        delete @ENV{qw(LISTEN_FDS LISTEN_PID LISTEN_FDNAMES)};
        if ($lsock) {
            my $fd = fileno($lsock);
            if ($fd != 3 && !defined dup2($fd, 3)) {
                print STDERR "LightyTest: dup2($fd, 3) failed: $!\n";
                _exit(126);
            }
            # dup2 onto itself keeps FD_CLOEXEC (perl sets it on fds > 2),
            # so clear it explicitly on fd 3
            my $fh3;
            if (!open($fh3, '+<&=', 3) || !fcntl($fh3, F_SETFD, 0)) {
                print STDERR "LightyTest: clearing FD_CLOEXEC on fd 3 failed: $!\n";
                _exit(126);
            }
            $ENV{LISTEN_FDS} = 1;
            if ($self->{listen_pid} eq 'parent') {
                # the server's parent: the wrapper (this process after
                # exec) if there is one, else the harness itself
                $ENV{LISTEN_PID} = 'parent:' . (@{ $self->{wrapper} } ? $$ : $harness_pid);
            } else {
                $ENV{LISTEN_PID} = $$;
            }
        }
        $ENV{PORT}    = $self->{PORT};
        $ENV{SRCDIR}  = $self->{SRCDIR};
        $ENV{TOPDIR}  = $self->{TOPDIR};
        $ENV{CONFDIR} = $self->{CONFDIR};
        $ENV{TESTTMPDIR} = $self->{TMPDIR};
        my $env = $self->{env};
        for my $k (keys %$env) {
            if (defined $env->{$k}) { $ENV{$k} = $env->{$k} }
            else                    { delete $ENV{$k} }
        }
        { no warnings 'exec'; exec {$cmd[0]} @cmd; }
        print STDERR "LightyTest: exec $cmd[0] failed: $!\n";
        _exit(127);
    }

    # parent: the server owns the listening socket now.  Closing our copy
    # means that connections are refused as soon as the server is gone
    # (unless a test asked to keep it, to look at its socket options).
    if ($lsock && $self->{keep_listen_socket}) {
        $self->{LISTEN_SOCK} = $lsock;
    } elsif ($lsock) {
        close $lsock;
    }
    $self->{LIGHTTPD_PID} = $pid;
    delete $self->{EXIT_STATUS};
    delete $self->{KILLED};

    return $self->_wait_ready;
}

sub _log_since_start {
    my $self = shift;
    my $err = $self->error_log;
    my $off = $self->{error_log_offset} || 0;
    $err = length($err) > $off ? substr($err, $off) : '';
    return $self->stderr_log . $err;
}

sub _wait_ready {
    my $self = shift;
    my $pid = $self->{LIGHTTPD_PID};
    my $pat = $self->{ready_pattern};
    my $deadline = time() + $self->{startup_timeout};
    while (1) {
        my $r = waitpid($pid, WNOHANG);
        if ($r == $pid) {
            $self->{EXIT_STATUS} = $?;
            delete $self->{LIGHTTPD_PID};
            _diag("LightyTest: '@{$self->{CMDLINE}}' exited during startup ("
                  . _describe_status($?) . ')');
            $self->_diag_logs;
            return -1;
        }
        if (defined $pat) {
            last if $self->_log_since_start =~ $pat;
        } elsif ($self->{socket_activation}) {
            last;       # queued connections wait in the backlog anyway
        } else {
            last if $self->listening_on;
        }
        if (time() >= $deadline) {
            _diag("LightyTest: server (pid $pid) not ready after "
                  . "$self->{startup_timeout}s"
                  . (defined $pat ? " (no log line matching $pat)" : ''));
            $self->_kill_hard;
            $self->_diag_logs;
            return -1;
        }
        sleep(0.02);
    }
    $self->{BASELINE_SOCKETS} = $self->open_socket_count;
    return 0;
}

sub _kill_hard {
    my $self = shift;
    my $pid = $self->{LIGHTTPD_PID} or return;
    kill 'KILL', -$pid;
    kill 'KILL', $pid;
    my $st = _wait_pid($pid, 5);
    $self->{EXIT_STATUS} = $st;
    $self->{KILLED} = 1;
    delete $self->{LIGHTTPD_PID};
}

sub stop_proc {
    my ($self, %o) = @_;
    my $pid = $self->{LIGHTTPD_PID};
    if (!$pid) {
        _diag('LightyTest: process not started, nothing to stop');
        return -1;
    }
    my $sig = defined $o{signal} ? $o{signal} : 'TERM';
    my $timeout = defined $o{timeout} ? $o{timeout} : $self->{stop_timeout};
    close(delete $self->{LISTEN_SOCK}) if $self->{LISTEN_SOCK};
    my $rc = 0;

    # with a wrapper (strace, valgrind, ...) the server is not $pid itself:
    # signal the whole process group, so that the server gets it directly
    kill $sig, (@{ $self->{wrapper} } ? -$pid : $pid);
    my $st = _wait_pid($pid, $timeout);
    if (!defined $st) {
        _diag("LightyTest: server (pid $pid) still running ${timeout}s after SIG$sig; sending SIGKILL");
        $self->_kill_hard;
        $rc = -1;
    } else {
        $self->{EXIT_STATUS} = $st;
        delete $self->{LIGHTTPD_PID};
        if ($st & 127) {
            _diag("LightyTest: server (pid $pid) " . _describe_status($st));
            $rc = -1;
        }
    }

    # anything left in the server's process group (wrapper children, CGI...)
    if (kill 0, -$pid) {
        kill 'TERM', -$pid;
        my $deadline = time() + 2;
        sleep(0.05) while kill(0, -$pid) && time() < $deadline;
        kill 'KILL', -$pid if kill 0, -$pid;
    }

    $self->_diag_logs if $rc != 0;
    return $rc;
}

sub exit_status { $_[0]{EXIT_STATUS} }
sub killed      { $_[0]{KILLED} ? 1 : 0 }
sub exit_code {
    my $st = $_[0]{EXIT_STATUS};
    return undef unless defined $st && $st >= 0 && !($st & 127);
    return $st >> 8;
}
sub exit_signal {
    my $st = $_[0]{EXIT_STATUS};
    return undef unless defined $st && $st >= 0;
    return $st & 127;
}

# number of sockets the server process holds open (Linux /proc); undef if
# unknown.  Right after start_proc this is the baseline (listening sockets).
sub open_socket_count {
    my $self = shift;
    my $pid = $self->{LIGHTTPD_PID} or return undef;
    opendir(my $dh, "/proc/$pid/fd") or return undef;
    my $n = 0;
    for my $fd (readdir $dh) {
        next unless $fd =~ /^\d+$/;
        my $l = readlink("/proc/$pid/fd/$fd");
        $n++ if defined $l && $l =~ /^socket:/;
    }
    closedir $dh;
    return $n;
}

# wait until the server has closed all client connections (socket count back
# to the baseline taken at startup); returns 1 if idle, 0 on timeout.
sub wait_idle {
    my ($self, $timeout) = @_;
    $timeout = $self->{http_timeout} unless defined $timeout;
    my $base = $self->{BASELINE_SOCKETS};
    if (!defined $base) { sleep(0.2); return 1 }
    my $deadline = time() + $timeout;
    while (1) {
        my $n = $self->open_socket_count;
        return 1 if !defined $n || $n <= $base;
        return 0 if time() >= $deadline;
        sleep(0.02);
    }
}

sub DESTROY {
    my $self = shift;
    return unless defined $self->{OWNER_PID} && $self->{OWNER_PID} == $$;
    local ($?, $!, $@);
    if ($self->{LIGHTTPD_PID}) {
        kill 'TERM', $self->{LIGHTTPD_PID};
        if (!defined _wait_pid($self->{LIGHTTPD_PID}, 2)) {
            kill 'KILL', -$self->{LIGHTTPD_PID};
            kill 'KILL', $self->{LIGHTTPD_PID};
            _wait_pid($self->{LIGHTTPD_PID}, 2);
        }
        delete $self->{LIGHTTPD_PID};
    }
    if ($self->{TMPDIR} && -d $self->{TMPDIR}) {
        if ($self->{keep_tmpdir} || !_tests_passing()) {
            _diag("LightyTest: server files kept in $self->{TMPDIR}");
        } else {
            remove_tree($self->{TMPDIR});
        }
    }
}

# ---------------------------------------------------------------------------
# compile-time features (-V)

sub features {
    my $self = shift;
    my $exe = ref $self ? $self->{LIGHTTPD_PATH} : lighttpd_exe();
    my $r = run_lighttpd(exe => $exe, args => ['-V']);
    my %f;
    for my $line (split /\n/, $r->{stdout}) {
        $f{$2} = ($1 eq '+') ? 1 : 0 if $line =~ /^\t([-+]) (.+)$/;
    }
    return \%f;
}

sub has_feature {
    my ($self, $name) = @_;
    my $f = $self->features;
    return $f->{$name} || $f->{"$name support"} || 0;
}

# ---------------------------------------------------------------------------
# HTTP client

sub connect_server {
    my $self = shift;
    my $s = IO::Socket::INET->new(
        PeerAddr => $self->{HOST}, PeerPort => $self->{PORT}, Proto => 'tcp',
        Timeout => $self->{http_timeout});
    return $s;
}

sub _write_all {
    my ($sock, $data) = @_;
    my $off = 0;
    while ($off < length $data) {
        my $n = syswrite($sock, $data, length($data) - $off, $off);
        if (!defined $n) {
            next if $! == EINTR || $! == EAGAIN;
            return 0;
        }
        $off += $n;
    }
    return 1;
}

# send $data on a new connection and collect the responses.
# options: slow => seconds between pieces (send in small pieces),
#          chunk => piece size for slow (default 1 line),
#          no_shutdown => 1 (do not half-close after sending),
#          count => N (stop reading after N final responses),
#          methods => [...], timeout => seconds
# returns a hash: responses => [...], raw => bytes, error => string|undef,
#                 timed_out => 0|1, eof => 0|1
sub http_exchange {
    my ($self, $data, %o) = @_;
    my $timeout = defined $o{timeout} ? $o{timeout} : $self->{http_timeout};
    my $methods = $o{methods} || [ _request_methods($data) ];
    my %res = (responses => [], raw => '', error => undef, timed_out => 0, eof => 0);

    my $sock = $self->connect_server;
    if (!$sock) {
        $res{error} = "connect to $self->{HOST}:" . ($self->{PORT} // '?') . " failed: $!";
        return \%res;
    }
    binmode $sock;
    local $SIG{PIPE} = 'IGNORE';

    my $write_ok = 1;
    if ($o{slow}) {
        my @pieces = defined $o{chunk}
            ? ($data =~ /(.{1,$o{chunk}})/gs)
            : ($data =~ /([^\n]*\n|[^\n]+)/g);
        for my $p (@pieces) {
            $write_ok = _write_all($sock, $p) or last;
            sleep($o{slow});
        }
    } else {
        $write_ok = _write_all($sock, $data);
    }
    # a failed write is not fatal: the server may answer and close early
    shutdown($sock, SHUT_WR) unless $o{no_shutdown};

    my $sel = IO::Select->new($sock);
    my $deadline = time() + $timeout;
    my $buf = '';
    while (1) {
        my $left = $deadline - time();
        if ($left <= 0) { $res{timed_out} = 1; last }
        next unless $sel->can_read($left);
        my $n = sysread($sock, $buf, 65536, length $buf);
        if (!defined $n) {
            next if $! == EINTR || $! == EAGAIN;
            # ECONNRESET after a complete response is common; keep what we got
            $res{read_error} = "$!";
            $res{eof} = 1;
            last;
        }
        if ($n == 0) { $res{eof} = 1; last }
        if ($o{count}) {
            my ($r) = parse_responses($buf, methods => $methods, eof => 0);
            last if scalar(grep { $_->status >= 200 || $_->status < 100 } @$r) >= $o{count};
        }
    }
    close $sock;

    $res{raw} = $buf;
    my ($resps, $err) = parse_responses($buf, methods => $methods, eof => $res{eof});
    $res{responses} = $resps;
    $res{error} = $err;
    if (!$write_ok && !@$resps) {
        $res{error} = "write to server failed: $!" . (defined $err ? "; $err" : '');
    }
    if ($res{timed_out} && !defined $res{error} && !$o{count} && !$o{no_shutdown}) {
        $res{error} = "timed out after ${timeout}s waiting for the server to close the connection";
    }
    return \%res;
}

# convenience: list of LightyTest::Response objects (dies on connect error)
sub http_request {
    my ($self, $data, %o) = @_;
    my $r = $self->http_exchange($data, %o);
    die "LightyTest: $r->{error}\n" if defined $r->{error} && !@{ $r->{responses} };
    return wantarray ? @{ $r->{responses} } : $r->{responses}[0];
}

sub _request_methods {
    my ($data) = @_;
    my @m;
    while ($data =~ /(?:\A|\n)(?:\r?\n)*([!#\$%&'*+.^_`|~0-9A-Za-z-]+) [^ \r\n]+ HTTP\/\d+\.\d+\r?\n/g) {
        push @m, $1;
    }
    return @m;
}

# parse a byte stream of HTTP/1.x responses.
# returns (\@responses, $error_or_undef, $incomplete)
sub parse_responses {
    my ($buf, %o) = @_;
    my @methods = @{ $o{methods} || [] };
    my $eof = exists $o{eof} ? $o{eof} : 1;
    my @resps;
    my $pos = 0;
    my $len = length $buf;

    while ($pos < $len) {
        my $hend = index($buf, "\r\n\r\n", $pos);
        if ($hend < 0) {
            return (\@resps, undef, 1) unless $eof;
            return (\@resps, sprintf("incomplete response header: '%s'",
                                     _printable(substr($buf, $pos, 200))), 1);
        }
        my $head = substr($buf, $pos, $hend - $pos);
        my $body_start = $hend + 4;
        my @lines = split /\r\n/, $head, -1;
        my $status_line = shift @lines;
        my ($proto, $code, $msg) =
            $status_line =~ m{^(HTTP/\d\.\d) (\d{3})(?: (.*))?$};
        if (!defined $proto) {
            return (\@resps, sprintf("unexpected status line '%s'", _printable($status_line)), 0);
        }
        my (@hdrs, %h);
        for my $line (@lines) {
            if ($line =~ /^([^:\s]+):[ \t]*(.*?)[ \t]*$/) {
                push @hdrs, [$1, $2];
                push @{ $h{lc $1} }, $2;
            } else {
                return (\@resps, sprintf("unexpected header line '%s'", _printable($line)), 0);
            }
        }
        my $r = bless {
            protocol => $proto, status => $code + 0,
            message  => defined $msg ? $msg : '',
            headers  => \@hdrs, hdr => \%h,
            body     => '', trailers => {}, raw_header => substr($buf, $pos, $body_start - $pos),
            chunked  => 0,
        }, 'LightyTest::Response';

        my $method = @methods ? $methods[0] : 'GET';
        my $te = $h{'transfer-encoding'} ? join(',', @{ $h{'transfer-encoding'} }) : '';
        $pos = $body_start;
        if ($code >= 100 && $code < 200) {
            push @resps, $r;
            if ($code == 101) {     # protocol switch: rest is not HTTP/1.x
                $r->{body} = substr($buf, $pos);
                return (\@resps, undef, 0);
            }
            next;                   # interim response; same request
        }
        shift @methods;
        if (uc($method) eq 'HEAD' || $code == 204 || $code == 304) {
            # no body
        } elsif ($te =~ /chunked\s*$/i) {
            $r->{chunked} = 1;
            my $body = '';
            while (1) {
                my $le = index($buf, "\r\n", $pos);
                if ($le < 0) {
                    return (\@resps, undef, 1) unless $eof;
                    $r->{body} = $body; push @resps, $r;
                    return (\@resps, 'truncated chunked body', 1);
                }
                my $sz_line = substr($buf, $pos, $le - $pos);
                my ($hex) = $sz_line =~ /^([0-9A-Fa-f]+)[ \t]*(?:;.*)?$/;
                if (!defined $hex) {
                    $r->{body} = $body; push @resps, $r;
                    return (\@resps, sprintf("bad chunk size line '%s'", _printable($sz_line)), 0);
                }
                my $sz = hex $hex;
                $pos = $le + 2;
                if ($sz == 0) {
                    # trailers until empty line
                    while (1) {
                        my $te2 = index($buf, "\r\n", $pos);
                        if ($te2 < 0) {
                            return (\@resps, undef, 1) unless $eof;
                            $r->{body} = $body; push @resps, $r;
                            return (\@resps, 'truncated chunked trailer', 1);
                        }
                        my $tl = substr($buf, $pos, $te2 - $pos);
                        $pos = $te2 + 2;
                        last if $tl eq '';
                        push @{ $r->{trailers}{lc $1} }, $2
                            if $tl =~ /^([^:\s]+):[ \t]*(.*?)[ \t]*$/;
                    }
                    last;
                }
                if ($pos + $sz + 2 > $len) {
                    return (\@resps, undef, 1) unless $eof;
                    $r->{body} = $body . substr($buf, $pos); push @resps, $r;
                    return (\@resps, 'truncated chunk data', 1);
                }
                $body .= substr($buf, $pos, $sz);
                $pos += $sz;
                if (substr($buf, $pos, 2) ne "\r\n") {
                    $r->{body} = $body; push @resps, $r;
                    return (\@resps, 'missing CRLF after chunk data', 0);
                }
                $pos += 2;
            }
            $r->{body} = $body;
        } elsif (defined $h{'content-length'}) {
            my $cl = $h{'content-length'}[-1];
            if ($cl !~ /^\d+$/) {
                push @resps, $r;
                return (\@resps, "bad Content-Length '$cl'", 0);
            }
            if ($pos + $cl > $len) {
                return (\@resps, undef, 1) unless $eof;
                $r->{body} = substr($buf, $pos); push @resps, $r;
                return (\@resps, sprintf('truncated body: Content-Length %d, got %d bytes',
                                         $cl, $len - $pos), 1);
            }
            $r->{body} = substr($buf, $pos, $cl);
            $pos += $cl;
        } else {
            # body until the connection is closed
            return (\@resps, undef, 1) unless $eof;
            $r->{body} = substr($buf, $pos);
            $pos = $len;
        }
        push @resps, $r;
    }
    return (\@resps, undef, 0);
}

sub _printable {
    my ($s) = @_;
    return '(undef)' unless defined $s;
    $s =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord $1)/ge;
    return $s;
}

# ---------------------------------------------------------------------------
# lighttpd-style request/response checks

sub _build_request {
    my ($t) = @_;
    if (exists $t->{RAW}) {
        return ref $t->{RAW} eq 'ARRAY' ? join('', @{ $t->{RAW} }) : $t->{RAW};
    }
    my @reqs = ref $t->{REQUEST} eq 'ARRAY' ? @{ $t->{REQUEST} } : ($t->{REQUEST});
    my $data = '';
    for my $r (@reqs) {
        next unless defined $r;
        (my $x = $r) =~ s/\r//g;
        $x =~ s/\n+\z//;
        $x =~ s/\n/\r\n/g;
        $data .= $x . "\r\n\r\n";
    }
    return $data;
}

sub _value_matches {
    my ($want, $got) = @_;
    return 0 unless defined $got;
    return $got =~ $want ? 1 : 0 if ref $want eq 'Regexp';
    if ($want =~ m{^/(.+)/$}s) {        # lighttpd-harness style '/regex/'
        my $re = $1;
        return $got =~ /$re/ ? 1 : 0;
    }
    return $got eq $want ? 1 : 0;
}

sub _show { my $v = shift; return ref $v eq 'Regexp' ? "$v" : "'" . _printable($v) . "'" }

# returns a list of failure descriptions (empty = match)
sub check_response {
    my ($self, $r, $exp) = @_;
    my @fail;
    if (defined $exp->{'HTTP-Protocol'} && !_value_matches($exp->{'HTTP-Protocol'}, $r->protocol)) {
        push @fail, sprintf('protocol: expected %s, got %s', _show($exp->{'HTTP-Protocol'}), _show($r->protocol));
    }
    if (defined $exp->{'HTTP-Status'} && !_value_matches($exp->{'HTTP-Status'}, $r->status)) {
        push @fail, sprintf('status: expected %s, got %s', _show($exp->{'HTTP-Status'}), _show($r->status));
    }
    for my $k ('HTTP-Message', 'HTTP-Reason') {
        if (defined $exp->{$k} && !_value_matches($exp->{$k}, $r->message)) {
            push @fail, sprintf('reason phrase: expected %s, got %s', _show($exp->{$k}), _show($r->message));
        }
    }
    if (defined $exp->{'HTTP-Content'}) {
        my $want = $exp->{'HTTP-Content'};
        my $ok = ref $want eq 'Regexp' ? $r->body =~ $want : $r->body eq $want;
        push @fail, sprintf('body: expected %s, got %s', _show($want), _show($r->body)) unless $ok;
    }
    if (exists $exp->{'-HTTP-Content'} && length $r->body) {
        push @fail, sprintf('body: expected empty body, got %s', _show($r->body));
    }
    for my $key (sort keys %$exp) {
        next if $key =~ /^-?HTTP-(?:Protocol|Status|Message|Reason|Content)$/;
        my $want = $exp->{$key};
        if ($key =~ /^\+(.+)$/) {
            push @fail, "header '$1' is missing" unless $r->has_header($1);
        } elsif ($key =~ /^-(.+)$/) {
            push @fail, sprintf("header '%s' must not be set, got %s", $1, _show($r->header($1)))
                if $r->has_header($1);
        } elsif (!$r->has_header($key)) {
            push @fail, "header '$key' is missing (expected " . _show($want) . ')';
        } elsif (!_value_matches($want, $r->header($key))) {
            push @fail, sprintf("header '%s': expected %s, got %s", $key, _show($want), _show($r->header($key)));
        }
    }
    return @fail;
}

sub handle_http {
    my ($self, $t) = @_;
    my $data = _build_request($t);
    my @exp = @{ $t->{RESPONSE} || [] };
    my %o = (timeout => $t->{TIMEOUT});
    $o{slow} = ($t->{SLOWREQUEST} =~ /^[0-9.]+$/ && $t->{SLOWREQUEST} > 0 ? $t->{SLOWREQUEST} : 0.1)
        if $t->{SLOWREQUEST};
    $o{methods} = $t->{METHODS} if $t->{METHODS};
    delete $o{timeout} unless defined $o{timeout};

    my $x = $self->http_exchange($data, %o);
    my $resps = $x->{responses};
    $t->{responses} = $resps;
    $t->{raw_response} = $x->{raw};
    if (@$resps) {
        $t->{etag} = $resps->[-1]->header('ETag');
        $t->{date} = $resps->[-1]->header('Date');
    }

    my @fail;
    push @fail, $x->{error} if defined $x->{error};
    for my $i (0 .. $#exp) {
        if ($i > $#$resps) {
            push @fail, sprintf('response %d: missing (expected %d response(s), got %d)',
                                $i + 1, scalar @exp, scalar @$resps);
            last;
        }
        push @fail, map { "response " . ($i + 1) . ": $_" } $self->check_response($resps->[$i], $exp[$i]);
    }
    if (@$resps > @exp && !$t->{ALLOW_EXTRA}) {
        push @fail, sprintf('%d unexpected extra response(s)', @$resps - @exp);
    }
    return 0 unless @fail;

    _diag("LightyTest: $_") for @fail;
    _diag_text('request', _printable_lines($data), 2000);
    _diag_text('response', _printable_lines($x->{raw}), 4000);
    return -1;
}

sub _printable_lines {
    my ($s) = @_;
    return join("\n", map { _printable($_) } split /\r?\n/, $s, -1);
}

sub http_ok {
    my ($self, $t, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    return Test::More::ok($self->handle_http($t) == 0, $name);
}

# ---------------------------------------------------------------------------

package LightyTest::Response;

sub protocol { $_[0]{protocol} }
sub status   { $_[0]{status} }
sub code     { $_[0]{status} }
sub message  { $_[0]{message} }
sub body     { $_[0]{body} }
sub chunked  { $_[0]{chunked} }
sub raw_header { $_[0]{raw_header} }

# all header fields as [name, value] pairs, in order
sub header_fields { @{ $_[0]{headers} } }

sub header_values {
    my ($self, $name) = @_;
    my $v = $self->{hdr}{lc $name};
    return $v ? @$v : ();
}

sub header {
    my ($self, $name) = @_;
    my $v = $self->{hdr}{lc $name};
    return $v ? join(', ', @$v) : undef;
}

sub has_header { exists $_[0]{hdr}{lc $_[1]} ? 1 : 0 }

sub trailer {
    my ($self, $name) = @_;
    my $v = $self->{trailers}{lc $name};
    return $v ? join(', ', @$v) : undef;
}

1;

__END__

=head1 NAME

LightyTest - test harness for lighttpd-rs (drop-in replacement for lighttpd 1.4)

=head1 SYNOPSIS

    use lib 't/lib';        # or: prove -I t/lib t/
    use Test::More;
    use LightyTest qw(run_lighttpd strip_log_prefix);

    # run the binary with arbitrary arguments
    my $r = run_lighttpd(args => ['-t', '-f', "$conf"], cwd => '/');
    is($r->{exit}, 0);
    is($r->{stdout}, "Syntax OK\n");

    # start a server (socket activation), talk HTTP, stop it
    my $tf = LightyTest->new(config => 'server-start.conf');   # t/conf/...
    ok($tf->start_proc == 0, 'start lighttpd') or BAIL_OUT('cannot start');

    my $t = {
        REQUEST  => [ "GET / HTTP/1.0" ],
        RESPONSE => [ { 'HTTP-Protocol' => 'HTTP/1.0', 'HTTP-Status' => 200,
                        'HTTP-Content' => "hello\n",
                        'Content-Type' => 'text/html',
                        '+Date' => '', '-Transfer-Encoding' => '' } ],
    };
    ok($tf->handle_http($t) == 0, 'GET /');

    ok($tf->stop_proc == 0, 'stop lighttpd');
    done_testing;

=head1 ENVIRONMENT

=over

=item LIGHTTPD_EXE_PATH

The binary under test.  Default: F<target/release/lighttpd> below the
repository root, which is found from the location of this module
(F<t/lib/..>/..), not from the current directory.  A relative value is
taken relative to the directory the tests were started from.

=item LIGHTTPD_TEST_TIMEOUT

Default timeout in seconds (startup, stop, HTTP reads, command runs);
default 10.

=item LIGHTTPD_TEST_TMPBASE

Where per-run temporary directories are created; default F<t/tmp>
(git-ignored).

=item LIGHTTPD_TEST_KEEP

If true, per-server temporary directories (logs) are kept.  They are also
kept whenever a test of the current test file has failed.

=item LIGHTTPD_TEST_WRAPPER

A command prefix (split on white space), e.g. C<strace -f -o /tmp/st>,
used by C<start_proc> unless the C<wrapper> option is given.  With a
wrapper, C<LISTEN_PID> defaults to the C<parent:> form (see below), which
is right for wrappers that run the server as their child (strace, gdb).
Wrappers that run it in their own process (valgrind) need
C<LIGHTTPD_TEST_LISTEN_PID=self>.  With a wrapper, C<stop_proc> signals
the whole process group.  Example:

    LIGHTTPD_TEST_WRAPPER="valgrind -q --log-file=/tmp/vg.%p" \
    LIGHTTPD_TEST_LISTEN_PID=self LIGHTTPD_TEST_TIMEOUT=60 prove -I t/lib t/

=item LIGHTTPD_TEST_LISTEN_PID

C<self> or C<parent>; overrides the default C<LISTEN_PID> form.

=back

=head1 FUNCTIONS

All exportable on request (C<use LightyTest qw(...)> or C<:all>).

=over

=item lighttpd_exe()

Absolute path of the binary under test (see C<LIGHTTPD_EXE_PATH>).

=item srcdir(), topdir()

Absolute paths of F<t/> and of the repository root.

=item run_lighttpd(%opts)

Runs the binary once and waits for it.  Options: C<args> (array ref),
C<stdin> (bytes fed on standard input; default empty), C<env> (hash ref;
C<undef> values delete a variable), C<cwd> (working directory; default the
directory the tests were started from), C<timeout> (seconds; the process
is killed after it), C<exe> (another binary).  C<LISTEN_FDS>,
C<LISTEN_PID> and C<LISTEN_FDNAMES> are removed from the child's
environment.  Returns a hash ref: C<stdout>, C<stderr>, C<exit> (exit code,
undef if killed by a signal), C<signal>, C<status> (raw wait status),
C<timed_out>, C<pid> (the process id, e.g. to check C<var.PID> in C<-p>
output), C<cmd>.

=item strip_log_prefix($text)

Removes the error-log prefix C<YYYY-MM-DD HH:MM:SS: (file.c.LINE) > from
every line, so that tests match the message text only.

=item log_messages($text)

The lines of C<$text> with the prefix stripped, as a list.

=item parse_responses($bytes, methods => [...], eof => 1)

Parses a stream of HTTP/1.x responses.  Returns
C<(\@responses, $error, $incomplete)>.  Bodies are delimited by
C<Transfer-Encoding: chunked> (decoded; trailers kept), C<Content-Length>,
or the end of the stream.  Responses to C<HEAD> (from the C<methods> list,
one entry per request in order) and 1xx/204/304 responses have no body.
1xx responses are returned as separate entries and do not consume a
request method.

=item slurp_file($path)

File contents (raw bytes) or undef.

=item responder_exe(), start_responder($path), responder_socket()

Our FastCGI test responder (examples/fcgi_responder): its path; started on
the unix socket $path (returns the pid, the caller stops it); or, for a
whole test file, started on a socket of its own whose path is returned,
stopped when the test ends, the file skipped when the responder is not
built.

=back

=head1 SERVER OBJECT

=head2 LightyTest->new(%opts)

Options:

=over

=item config

Config file; relative names are taken from F<t/conf/>.  (C<CONFIGFILE> is
accepted as an alias, and C<< $tf->{CONFIGFILE} >> may be changed between
runs like in lighttpd's own harness.)

=item args

Extra command line arguments appended after C<-D -f CONFFILE>.

=item env

Extra environment for the server (hash ref; C<undef> deletes).

=item wrapper

Command prefix (array ref), e.g. C<['strace', '-f', '-o', 'st.log']>.

=item listen_pid

C<'self'> (default without a wrapper): C<LISTEN_PID> is the server's own
pid.  C<'parent'>: C<LISTEN_PID=parent:PPID>, where PPID is the pid of the
server's parent process: the wrapper if there is one, else the test
process.  lighttpd accepts both forms.

=item socket_activation

Default 1.  If 0, no socket is passed: a free port is chosen, exported as
C<PORT>, and the config must bind it itself (readiness is then also
checked by connecting, if C<ready_pattern> is undef).

=item keep_listen_socket

Default 0.  If 1 (with socket activation), the test process keeps its copy
of the listening socket it passed on fd 3, as C<< $tf->{LISTEN_SOCK} >>,
until C<stop_proc>: a test can read the socket options the server set on
it (e.g. server.defer-accept).

=item ready_pattern

Regexp that marks the server as started when it appears on its stderr or
in F<$TESTTMPDIR/error.log>; default C<qr/\bserver started\b/> (lighttpd
logs C<(server.c.NNNN) server started (lighttpd/1.4.69)>).  C<undef>: with
socket activation the server counts as started as soon as it has been
exec'd (requests simply wait in the listen backlog).

=item startup_timeout, stop_timeout, http_timeout

Seconds; default C<LIGHTTPD_TEST_TIMEOUT> or 10.

=item exe

Binary (default C<lighttpd_exe()>).

=item keep_tmpdir

Keep the per-server temporary directory.

=back

Each object owns a per-run temporary directory (C<< $tf->tmpdir >>) that
receives F<stderr.log> and F<stdout.log> of the server; configs may put
their error log at C<env.TESTTMPDIR + "/error.log"> so that the harness
sees it too.

=head2 Starting: $tf->start_proc

Returns 0 on success, -1 on failure (with C<diag> output including the
server's stderr and error log).  What it does, as lighttpd's own test
harness does:

=over

=item 1.

binds a listening TCP socket on 127.0.0.1 port 0 (ephemeral) and reads the
port back (C<< $tf->port >>, also C<< $tf->{PORT} >>);

=item 2.

forks; the child puts itself into its own process group, redirects
stdin from F</dev/null> and stdout/stderr to the log files, C<dup2>s the
listening socket onto fd 3 and clears C<FD_CLOEXEC> on it, sets
C<LISTEN_FDS=1> and C<LISTEN_PID> (own pid, or C<parent:PPID>, see
C<listen_pid>), exports

    PORT        the port of the listening socket
    SRCDIR      absolute path of t/
    CONFDIR     absolute path of t/conf
    TOPDIR      absolute path of the repository root
    TESTTMPDIR  the per-run temporary directory of this object

and execs C<LIGHTTPD_EXE_PATH -D -f CONFFILE [args]> (behind the wrapper,
if any);

=item 3.

the parent closes its copy of the listening socket (so connections are
refused once the server is gone) and waits, bounded by
C<startup_timeout>, until the server logs that it has started.  If the
process exits first, the failure is reported with its exit status,
stderr and error log.

=back

Config files used with the harness must therefore contain

    server.systemd-socket-activation = "enable"
    server.bind = "127.0.0.1"
    server.port = env.PORT

and typically C<server.document-root = env.SRCDIR + "/docroot">.

=head2 Stopping: $tf->stop_proc(signal => 'TERM', timeout => N)

Sends SIGTERM (or C<signal>) to the server (with a wrapper: to its whole
process group) and waits up to C<timeout> seconds; if it does not exit, the whole process group gets SIGKILL.
Processes left in the server's process group are terminated.  Returns 0 if
the server exited by itself (whatever its exit code), -1 if it had to be
killed, died from a signal, or was not running.  Afterwards:
C<< $tf->exit_status >> (raw wait status), C<< $tf->exit_code >>,
C<< $tf->exit_signal >>, C<< $tf->killed >>.

Note: lighttpd 1.4.69 exits with code 1 instead of 0 when it receives
SIGTERM while a client connection is still open (e.g. a keep-alive
connection, or during its lingering close).  Call C<< $tf->wait_idle >>
before C<stop_proc> when a test asserts exit code 0.

=head2 Other methods

=over

=item $tf->wait_idle($timeout)

Waits (Linux /proc) until the server holds no more sockets than right
after startup, i.e. all client connections are closed; 1 if so, 0 on
timeout.  C<< $tf->open_socket_count >> gives the current number.

=item $tf->stderr_log, $tf->error_log, $tf->server_log

Contents of the captured stderr, of F<$TESTTMPDIR/error.log>, and both
concatenated.  C<stderr_log_path>, C<error_log_path> give the paths.

=item $tf->pid, $tf->port, $tf->tmpdir, $tf->exe, $tf->config_path

=item $tf->listening_on($port)

1 if a TCP connection to 127.0.0.1:$port succeeds.

=item $tf->features, $tf->has_feature($name)

Parses C<-V>: hash ref C<< { 'IPv6 support' => 1, 'epoll (Linux)' => 1,
... } >>; C<has_feature('zlib')> also finds C<'zlib support'>.

=back

=head1 HTTP

=head2 $tf->handle_http($t)

Sends one or more (pipelined) requests on one connection, half-closes the
connection, reads until the server closes it (bounded by C<http_timeout>),
parses all responses and checks them against C<< $t->{RESPONSE} >>.
Returns 0 if everything matches, else -1 after C<diag>nosing every
mismatch together with the raw request and response.  The usual form is
C<< ok($tf->handle_http($t) == 0, 'name') >>, or
C<< $tf->http_ok($t, 'name') >>.

Keys of C<$t>:

=over

=item REQUEST

A string or an array ref of strings, each one request head (possibly
several pipelined requests in one string).  Every C<\r> is removed, C<\n>
becomes C<\r\n>, trailing newlines are dropped and C<\r\n\r\n> is
appended.  Use RAW for requests with a body or for exact bytes.

=item RAW

Exact bytes to send (string or array ref of strings, concatenated);
overrides REQUEST.

=item RESPONSE

Array ref with one hash per expected response, in order (1xx interim
responses count as responses).  More responses than expected is a failure
unless C<ALLOW_EXTRA> is set.  Keys of each hash:

    'HTTP-Protocol' => 'HTTP/1.1'   status-line protocol
    'HTTP-Status'   => 200          status code
    'HTTP-Message'  => 'OK'         reason phrase (alias HTTP-Reason)
    'HTTP-Content'  => "body"       exact body (after de-chunking)
    '-HTTP-Content' => ''           body must be empty
    'Name'          => 'value'      header present and equal
    '+Name'         => ''           header present (value ignored)
    '-Name'         => ''           header absent

Header names are case-insensitive; a header sent several times is
compared as its values joined with C<", ">.  Any expected value (status,
protocol, reason, body, header) may be a C<qr//> regexp; for header values
the lighttpd-harness convention C<'/regex/'> (a string starting and ending
with C</>) is also taken as a regexp -- prefer C<qr//>.

=item SLOWREQUEST

Send the request line by line, pausing 0.1 s (or the given number of
seconds) between lines.

=item METHODS

Request methods in order, if the automatic detection (lines looking like
C<METHOD target HTTP/x.y>) is not good enough; C<HEAD> responses have no
body.

=item TIMEOUT, ALLOW_EXTRA

=back

After the call, C<< $t->{responses} >> holds the parsed responses
(LightyTest::Response objects), C<< $t->{raw_response} >> the bytes
received, C<< $t->{etag} >> and C<< $t->{date} >> the ETag and Date of the
last response.

=head2 $tf->http_exchange($bytes, %opts) and $tf->http_request($bytes, %opts)

Lower level: send exact bytes, return a hash ref (C<responses>, C<raw>,
C<error>, C<timed_out>, C<eof>), resp. the list of responses (the first one
in scalar context).  Options: C<no_shutdown> (do not half-close; then pass
C<count> to stop reading after that many final responses), C<count>,
C<slow>, C<chunk>, C<methods>, C<timeout>.

=head2 LightyTest::Response

Methods: C<protocol>, C<status> (alias C<code>), C<message>, C<body>,
C<header($name)> (values joined with C<", ">, undef if absent),
C<header_values($name)>, C<has_header($name)>, C<header_fields> (list of
C<[name, value]> in order), C<trailer($name)>, C<chunked>, C<raw_header>.

=cut
