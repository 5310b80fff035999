#!/usr/bin/perl
# `lighttpd -p -f CONF`: the parsed config printed in internal form.
#
# Each t/conf/print-NAME.conf has t/conf/print-NAME.expected, recorded from
# the reference lighttpd 1.4.69 run from cwd "/" (so var.CWD is "/"), with
# the value of the var.PID line replaced by @PID@; the test puts the pid of
# the process it ran there.  To re-record (reference binary only!):
#
#   cd / && LIGHTTPD_TEST_TAG=tagged /usr/sbin/lighttpd -p -f $PWD/t/conf/print-NAME.conf \
#     | perl -pe 's/^(    var\.PID\s+= )\d+$/$1\@PID\@/' > t/conf/print-NAME.expected

use strict;
use warnings;
use Test::More;
use LightyTest qw(run_lighttpd srcdir lighttpd_exe slurp_file);

my $CONF = srcdir() . '/conf';
my $EXE = lighttpd_exe();
ok(-x $EXE, "binary under test $EXE is executable (build it or set LIGHTTPD_EXE_PATH)")
    or do { done_testing(); exit };

my %ENV_FOR = (LIGHTTPD_TEST_TAG => 'tagged');

for my $name (qw(print-basic print-vars print-conditions)) {
    my $expected = slurp_file("$CONF/$name.expected");
    ok(defined $expected, "$name.expected exists") or next;

    my $r = run_lighttpd(args => ['-p', '-f', "$CONF/$name.conf"], cwd => '/',
                         env => \%ENV_FOR);
    is($r->{exit}, 0, "$name: -p exits 0");
    is($r->{stderr}, '', "$name: -p prints nothing on stderr");
    like($r->{stdout}, qr/^    var\.PID += $r->{pid}$/m,
         "$name: var.PID is the pid of the process ($r->{pid})");
    $expected =~ s/\@PID\@/$r->{pid}/g;
    is($r->{stdout}, $expected, "$name: -p output matches $name.expected");
}

# var.CWD is the working directory of the process
{
    my $r = run_lighttpd(args => ['-p', '-f', "$CONF/print-basic.conf"], cwd => $CONF);
    is($r->{exit}, 0, '-p from another cwd exits 0');
    like($r->{stdout}, qr/^    var\.CWD += "\Q$CONF\E"$/m, "var.CWD is the cwd ($CONF)");
}

# a minimal config: alignment follows the longest key
{
    my $r = run_lighttpd(args => ['-p', '-f', '-'], cwd => '/',
                         stdin => qq{server.port = 8080\n});
    is($r->{exit}, 0, '-p of a one-line config exits 0');
    is($r->{stdout},
       "config {\n"
     . "    var.CWD     = \"/\"\n"
     . "    var.PID     = $r->{pid}\n"
     . "    server.port = 8080\n"
     . "\n"
     . "}\n",
       '-p of a one-line config, exact');
}

# a syntax error: no config printed
{
    my $r = run_lighttpd(args => ['-p', '-f', "$CONF/syntax-error.conf"], cwd => '/');
    is($r->{exit}, 255, '-p on a syntax error exits 255');
    is($r->{stdout}, '', '-p on a syntax error prints no config');
}

# an undefined env.* variable is an error
{
    my $r = run_lighttpd(args => ['-p', '-f', "$CONF/print-vars.conf"], cwd => '/',
                         env => { LIGHTTPD_TEST_TAG => undef });
    is($r->{exit}, 255, '-p with an unset env.* variable exits 255');
    is($r->{stdout}, '', '-p with an unset env.* variable prints no config');
    like($r->{stderr}, qr/^Undefined env variable: LIGHTTPD_TEST_TAG$/m,
         '"Undefined env variable: LIGHTTPD_TEST_TAG" on stderr');
}

done_testing();
