#!/usr/bin/perl
# A bin-path "backend" for t/fastcgi-kill-signal.t: it never answers, it
# only writes the name of the first signal it gets to $SIGNAL_FILE, then
# exits. (The listening socket the server passes as fd 0 is left alone.)
use strict;
use warnings;

my $out = $ENV{SIGNAL_FILE} or die "SIGNAL_FILE is not set\n";
for my $name (qw(HUP INT QUIT USR1 USR2 TERM)) {
    $SIG{$name} = sub {
        open(my $fh, '>', $out) or exit 1;
        print $fh "$name\n";
        close $fh;
        exit 0;
    };
}
sleep 1 while 1;
