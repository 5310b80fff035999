#!/usr/bin/perl
# mod_fastcgi with a Perl FCGI script (t/backends/hello-fcgi.pl, the FCGI
# module of Debian's libfcgi-perl), run both ways:
#  - "/spawned": lighttpd starts it through "bin-path" with "max-procs" 1
#    and hands it the listening socket as fd 0 (FCGI::Request's default),
#    with bin-environment and bin-copy-environment; lighttpd stops it again;
#  - "/ext": the test starts it on its own unix socket (FCGI::OpenSocket).
# Expected values are lighttpd 1.4.69's with the same script and config.

use strict;
use warnings;
use Test::More;
use POSIX ();
use File::Temp qw(tempdir);
use Digest::MD5 qw(md5_hex);
use Time::HiRes qw(sleep time);
use LightyTest qw(srcdir strip_log_prefix);

plan skip_all => 'the Perl FCGI module is missing (.ci/run installs libfcgi-perl)'
    unless eval { require FCGI; 1 };

my $script = srcdir() . '/backends/hello-fcgi.pl';
my $tmp = tempdir(CLEANUP => 1);
my $sock = "$tmp/perl.sock";

sub alive {     # running, not a zombie
    my ($pid) = @_;
    open(my $fh, '<', "/proc/$pid/stat") or return kill(0, $pid) ? 1 : 0;
    my $st = <$fh> // '';
    return $st =~ /^\d+ \(.*\) ([A-Za-z])/ && $1 ne 'Z' && $1 ne 'X' ? 1 : 0;
}

my $epid = fork();
die "fork: $!" unless defined $epid;
if (!$epid) {
    setpgrp(0, 0);
    open(STDOUT, '>', "$tmp/ext.log");
    open(STDERR, '>&', \*STDOUT);
    $ENV{NOT_COPIED} = 'ext';
    exec $^X, $script, $sock or POSIX::_exit(127);
}
END {
    if ($epid) {
        local $?;
        kill 'TERM', -$epid;
        kill 'TERM', $epid;
        waitpid($epid, 0);
    }
}
for (1 .. 100) { last if -S $sock; sleep(0.05) }
ok(-S $sock, 'the external script listens on its own unix socket')
    or do { diag(`cat $tmp/ext.log`); done_testing(); exit };

my $tf = LightyTest->new(config => 'perl-fcgi.conf',
    env => { PERL_SOCK => $sock, PERL_FCGI_BIN => "$^X $script", NOT_COPIED => 'leak' });
ok($tf->start_proc == 0, 'server starts and spawns the script') or do { done_testing(); exit };
my $spawned_sock = $tf->tmpdir . '/perl.socket-0';
ok(-S $spawned_sock, 'max-procs 1: proc 0 listens on <socket>-0');

my $empty = md5_hex('');
sub hello {
    my ($n, $pid, $env, %v) = @_;
    return "hello from perl #$n pid=$pid\n"
        . join('', map { "$_=" . ($v{$_} // '-') . "\n" } qw(SCRIPT_NAME PATH_INFO QUERY_STRING REQUEST_METHOD))
        . "env $env\n"
        . 'body_len=' . length($v{body} // '') . ' body_md5=' . md5_hex($v{body} // '') . "\n";
}
my $spawned_env = 'HELLO_GREETING=spawned NOT_COPIED=- PHP_FCGI_CHILDREN=1';

# --- external
my $want = hello(1, $epid, 'HELLO_GREETING=- NOT_COPIED=ext PHP_FCGI_CHILDREN=-',
                 SCRIPT_NAME => '/ext', PATH_INFO => '/a', QUERY_STRING => 'x=1', REQUEST_METHOD => 'GET');
ok($tf->handle_http({ REQUEST => ["GET /ext/a?x=1 HTTP/1.0"],
    RESPONSE => [{ 'HTTP-Status' => 200, 'Content-Type' => 'text/plain', 'X-Backend' => 'perl-fcgi',
                   'Content-Length' => length($want), 'HTTP-Content' => $want }] }) == 0,
   'external script: status, headers, body with SCRIPT_NAME, PATH_INFO, QUERY_STRING');

# --- spawned by lighttpd
my $x = $tf->http_exchange("GET /spawned/p/q?stderr HTTP/1.0\r\n\r\n");
my $r = $x->{responses}[0];
my ($spid) = $r ? $r->body =~ /^hello from perl #1 pid=(\d+)$/m : ();
ok($spid && $spid != $epid && $spid != $tf->pid, 'bin-path: a new process answers, its first request')
    or diag($x->{raw});
$spid //= 0;
$want = hello(1, $spid, $spawned_env, SCRIPT_NAME => '/spawned', PATH_INFO => '/p/q',
              QUERY_STRING => 'stderr', REQUEST_METHOD => 'GET');
is($r ? join("\n", $r->status, $r->header('Content-Type') // '', $r->header('X-Backend') // '', $r->body) : '',
   "200\ntext/plain\nperl-fcgi\n$want",
   'bin-path: the response, PATH_INFO, and the environment lighttpd gave the process '
   . '(bin-environment set, a variable outside bin-copy-environment dropped, PHP_FCGI_CHILDREN=1)');
like(strip_log_prefix($tf->error_log), qr/^FastCGI-stderr:hello-fcgi\.pl says hello on stderr$/m,
     "the script's STDERR is in the error log as FastCGI-stderr:<line>");

my $big = join('', map { chr(ord('a') + $_ % 26) } 0 .. 99999) x 3;     # 300000 bytes
$want = hello(2, $spid, $spawned_env, SCRIPT_NAME => '/spawned', QUERY_STRING => '',
              REQUEST_METHOD => 'POST', body => $big);
ok($tf->handle_http({ RAW => "POST /spawned HTTP/1.0\r\nContent-Type: application/octet-stream\r\n"
                             . "Content-Length: " . length($big) . "\r\n\r\n$big",
    RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => $want }] }) == 0,
   'a 300000-byte POST body arrives whole (several FCGI_STDIN records)');

my $pat = join('', map { chr(ord('a') + $_ % 26) } 0 .. 999);
my $tail = substr($pat x 201, 0, 200005);
$want = hello(3, $spid, $spawned_env, SCRIPT_NAME => '/spawned', QUERY_STRING => 'big=200005',
              REQUEST_METHOD => 'GET') . $tail;
$x = $tf->http_exchange("GET /spawned?big=200005 HTTP/1.0\r\n\r\n");
$r = $x->{responses}[0];
ok($r && $r->status == 200 && $r->body eq $want,
   'a 200 kB response from the script arrives whole (several FCGI_STDOUT records)')
    or diag('got ' . ($r ? $r->status . ', ' . length($r->body) . ' bytes' : 'no response')
            . ', want ' . length($want) . ' bytes');

my @exp = map { my $w = hello($_ + 3, $spid, $spawned_env, SCRIPT_NAME => '/spawned', PATH_INFO => "/k$_",
                               QUERY_STRING => '', REQUEST_METHOD => 'GET');
                { 'HTTP-Protocol' => 'HTTP/1.1', 'HTTP-Status' => 200, 'Content-Length' => length($w),
                  'HTTP-Content' => $w } } 1 .. 3;
ok($tf->handle_http({ REQUEST => ["GET /spawned/k1 HTTP/1.1\nHost: a", "GET /spawned/k2 HTTP/1.1\nHost: a",
                                  "GET /spawned/k3 HTTP/1.1\nHost: a\nConnection: close"], RESPONSE => \@exp }) == 0,
   'three keep-alive requests, all served by the one spawned process (the counter goes on)');

$want = hello(2, $epid, 'HELLO_GREETING=- NOT_COPIED=ext PHP_FCGI_CHILDREN=-',
              SCRIPT_NAME => '/ext', QUERY_STRING => '', REQUEST_METHOD => 'GET');
ok($tf->handle_http({ REQUEST => ["GET /ext HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => $want }] }) == 0,
   'the external script has served only the /ext requests');

# SIGTERM to lighttpd alone (stop_proc would also clean up its process
# group): lighttpd itself must send the spawned script its kill-signal
kill 'TERM', $tf->pid;
my $deadline = time() + 5;
sleep(0.05) while $spid && alive($spid) && time() < $deadline;
my $gone = $spid && !alive($spid);
$tf->stop_proc;
ok($gone, 'lighttpd terminates the script it spawned when it stops');
ok(!-e $spawned_sock, 'and removes its socket');
ok(alive($epid) && -S $sock, 'the external script and its socket are left alone');
done_testing();
