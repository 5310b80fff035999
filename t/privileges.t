#!/usr/bin/perl
# server.username / server.groupname: started as root, the server binds,
# then runs as nobody:nogroup, so a file only root may read is 403 while a
# world-readable one is served, and the process's uid and gid are nobody's;
# the pid file is opened before the drop.
# Needs root (CI runs as root) and Debian's nobody / nogroup.

use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use LightyTest;

plan skip_all => 'needs root to drop privileges' unless $> == 0;
my @pw = getpwnam('nobody');
my @gr = getgrnam('nogroup');
plan skip_all => 'no user nobody / group nogroup' unless @pw && @gr;

my $docroot = tempdir(CLEANUP => 1);
chmod 0755, $docroot;
for (['public.txt', 0644], ['secret.txt', 0600]) {
    open(my $fh, '>', "$docroot/$_->[0]") or die;
    print $fh "$_->[0]\n";
    close $fh;
    chmod $_->[1], "$docroot/$_->[0]";
}

# The pid file in a directory only root may write (Debian's is /run).
my $rootonly = tempdir(CLEANUP => 1);
chmod 0700, $rootonly;
my $tf = LightyTest->new(config => 'privileges.conf',
                         env => { DOCROOT => $docroot, PIDFILE => "$rootonly/lighttpd.pid" });
chmod 0777, $tf->tmpdir; # the error log is opened after the drop, as lighttpd does
ok($tf->start_proc == 0, 'server starts as root') or do { done_testing(); exit };
ok($tf->handle_http({ REQUEST => ["GET /public.txt HTTP/1.0"],
    RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => "public.txt\n" }] }) == 0,
   'a world-readable file is served');
ok($tf->handle_http({ REQUEST => ["GET /secret.txt HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 403 }] }) == 0,
   'a file only root may read is 403: root was dropped');
my $status = LightyTest::slurp_file('/proc/' . $tf->pid . '/status') // '';
my ($uid) = $status =~ /^Uid:\s+(\d+)/m;
my ($gid) = $status =~ /^Gid:\s+(\d+)/m;
is($uid, $pw[2], 'the process runs as nobody');
is($gid, $gr[2], 'in group nogroup');
is(LightyTest::slurp_file("$rootonly/lighttpd.pid"), $tf->pid . "\n",
   'the pid file was opened as root (a root-only directory) and holds the pid');
$tf->stop_proc;
done_testing();
