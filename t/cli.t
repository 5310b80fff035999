#!/usr/bin/perl
# Command line behaviour of the lighttpd binary: -v -V -h, option errors,
# -t / -tt config tests, -f - (config on stdin).
#
#   LIGHTTPD_EXE_PATH=/usr/sbin/lighttpd prove -I t/lib t/cli.t

use strict;
use warnings;
use Test::More;
use IO::Socket::INET;
use LightyTest qw(run_lighttpd srcdir lighttpd_exe strip_log_prefix log_messages slurp_file);

my $CONF = srcdir() . '/conf';
my $EXE = lighttpd_exe();
ok(-x $EXE, "binary under test $EXE is executable (build it or set LIGHTTPD_EXE_PATH)")
    or do { done_testing(); exit };

# all runs from a fixed cwd; config paths are absolute
sub run { return run_lighttpd(cwd => '/', @_) }

my $VERSION_RE = qr{lighttpd/1\.4\.69(?: \(ssl\))? - a light and fast webserver};

# ------------------------------------------------------------------ -v
{
    my $r = run(args => ['-v']);
    is($r->{exit}, 0, '-v exits 0');
    like($r->{stdout}, qr/\A$VERSION_RE\n\z/, '-v prints exactly the version line');
    is($r->{stderr}, '', '-v prints nothing on stderr');
}

# ------------------------------------------------------------------ -V
{
    my $r = run(args => ['-V']);
    is($r->{exit}, 0, '-V exits 0');
    is($r->{stderr}, '', '-V prints nothing on stderr');
    my $out = $r->{stdout};
    like($out, qr/\A$VERSION_RE\n\n/, '-V starts with the version line and a blank line');

    # split into sections "Title:\n\n\t[-+] item\n...\n"
    my %items;
    my @titles;
    my $rest = $out;
    $rest =~ s/\A$VERSION_RE\n\n//;
    while ($rest =~ s/\A([A-Z][A-Za-z ]+):\n(\n?)((?:\t[-+] [^\n]+\n)+)\n//) {
        push @titles, $1;
        $items{$1} = [ map { /^\t[-+] (.+)$/ ? $1 : () } split /\n/, $3 ];
    }
    is_deeply(\@titles, ['Event Handlers', 'Network handler', 'Features'],
              '-V has the sections Event Handlers, Network handler, Features in order');
    is($rest, '', '-V has nothing after the Features section');

    # every item line is "\t+ name" or "\t- name"
    my @item_lines = grep { /^\t/ } split /\n/, $out;
    ok(@item_lines > 20, '-V lists items');
    is(scalar(grep { !/^\t[-+] \S/ } @item_lines), 0, 'every -V item line matches /^\t[-+] /');

    # blank line between section title and items (as lighttpd prints it)
    like($out, qr/\nEvent Handlers:\n\n\t/, 'blank line after "Event Handlers:"');
    like($out, qr/\nNetwork handler:\n\n\t/, 'blank line after "Network handler:"');
    like($out, qr/\nFeatures:\n\n\t/, 'blank line after "Features:"');

    my %known_ev = map { $_ => 1 } ('select (generic)', 'poll (Unix)', 'epoll (Linux)',
        '/dev/poll (Solaris)', 'eventports (Solaris)', 'kqueue (FreeBSD)', 'libev (generic)');
    my @ev = @{ $items{'Event Handlers'} || [] };
    ok(scalar(@ev) >= 6, 'Event Handlers lists the event handlers');
    is_deeply([grep { !$known_ev{$_} } @ev], [], 'Event Handlers names are lighttpd\'s');
    ok((grep { $_ eq 'epoll (Linux)' } @ev), 'Event Handlers mentions epoll (Linux)');

    is_deeply($items{'Network handler'},
        ['linux-sendfile', 'freebsd-sendfile', 'darwin-sendfile', 'solaris-sendfilev',
         'writev', 'write', 'mmap support'],
        'Network handler items');

    is_deeply($items{'Features'},
        [ map { "$_ support" } qw(IPv6 zlib zstd bzip2 brotli crypt OpenSSL mbedTLS),
          'NSS crypto', qw(GnuTLS WolfSSL Nettle PCRE MySQL PgSQL DBI Kerberos LDAP
          PAM FAM LUA xml SQLite Y2038) ],
        'Features items: "X support" for each feature, in lighttpd\'s order');
}

# ------------------------------------------------------------------ -h
my $USAGE_OPTS = [qw(-f -m -i -1 -p -t -tt -D -v -V -h)];
{
    my $r = run(args => ['-h']);
    is($r->{exit}, 0, '-h exits 0');
    is($r->{stderr}, '', '-h prints nothing on stderr');
    my $out = $r->{stdout};
    like($out, qr/\A$VERSION_RE\nusage:\n/, '-h: version line, then "usage:"');
    my @opts = map { /^ (-\S+) / ? $1 : () } split /\n/, $out;
    is_deeply(\@opts, $USAGE_OPTS, '-h lists the options -f -m -i -1 -p -t -tt -D -v -V -h');
    like($out, qr/^ -f <name>  filename of the config-file$/m, '-h: -f line');
    like($out, qr/^ -m <name>  module directory \(default: [^)]+\)$/m, '-h: -m line');
    like($out, qr/^ -i <secs>  graceful shutdown after <secs> of inactivity$/m, '-h: -i line');
    like($out, qr/^ -1         process single \(one\) request on stdin socket, then exit$/m, '-h: -1 line');
    like($out, qr/^ -p         print the parsed config-file in internal form, and exit$/m, '-h: -p line');
    like($out, qr/^ -t         test config-file syntax, then exit$/m, '-h: -t line');
    like($out, qr/^ -tt        test config-file syntax, load and init modules, then exit$/m, '-h: -tt line');
    like($out, qr/^ -D         don't go to background \(default: go to background\)$/m, '-h: -D line');
    like($out, qr/^ -v         show version$/m, '-h: -v line');
    like($out, qr/^ -V         show compile-time features$/m, '-h: -V line');
    like($out, qr/^ -h         show this help\n\n\z/m, '-h: -h line is last, followed by a blank line');
}

# ------------------------------------------------------------------ option errors
{
    my $r = run(args => ['-Z']);
    is($r->{exit}, 255, 'unknown option exits 255');
    like($r->{stderr}, qr/: invalid option -- 'Z'$/m, 'unknown option: getopt message on stderr');
    my @opts = map { /^ (-\S+) / ? $1 : () } split /\n/, $r->{stdout};
    is_deeply(\@opts, $USAGE_OPTS, 'unknown option: usage on stdout');
}
{
    my $r = run(args => []);
    is($r->{exit}, 255, 'no -f: exits 255');
    is($r->{stdout}, '', 'no -f: nothing on stdout');
    is_deeply([log_messages($r->{stderr})],
              ['No configuration available. Try using -f option.'],
              'no -f: "No configuration available. Try using -f option."');
    like($r->{stderr}, qr/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d: \(\S+\) No configuration/,
         'no -f: message has the error-log prefix');
}
{
    my $r = run(args => ['-D']);
    is($r->{exit}, 255, '-D without -f: exits 255');
    like(strip_log_prefix($r->{stderr}), qr/^No configuration available\. Try using -f option\.$/m,
         '-D without -f: "No configuration available"');
}
{
    my $c = "$CONF/syntax-ok.conf";
    my $r = run(args => ['-f', $c, '-f', $c, '-t']);
    is($r->{exit}, 255, 'two -f: exits 255');
    is($r->{stdout}, '', 'two -f: nothing on stdout');
    is_deeply([log_messages($r->{stderr})],
        ['Can only read one config file. Use the include command to use multiple config files.'],
        'two -f: "Can only read one config file. ..."');
}
{
    my $missing = "$CONF/does-not-exist.conf";
    my $r = run(args => ['-t', '-f', $missing]);
    is($r->{exit}, 255, 'missing config file: exits 255');
    is($r->{stdout}, '', 'missing config file: no "Syntax OK"');
    like(strip_log_prefix($r->{stderr}),
         qr/^opening configfile \Q$missing\E failed: No such file or directory$/m,
         'missing config file: "opening configfile ... failed"');
}

# ------------------------------------------------------------------ -t
{
    my $r = run(args => ['-t', '-f', "$CONF/syntax-ok.conf"]);
    is($r->{exit}, 0, '-t on a good config exits 0');
    is($r->{stdout}, "Syntax OK\n", '-t prints exactly "Syntax OK\n"');
    is($r->{stderr}, '', '-t on a good config: nothing on stderr');
}
{
    my $r = run(args => ['-f', "$CONF/syntax-ok.conf", '-t']);
    is($r->{exit}, 0, '-f before -t works too');
    is($r->{stdout}, "Syntax OK\n", '-f CONF -t prints "Syntax OK"');
}
{
    my $c = "$CONF/syntax-error.conf";
    my $r = run(args => ['-t', '-f', $c]);
    is($r->{exit}, 255, '-t on a syntax error exits 255');
    is($r->{stdout}, '', '-t on a syntax error: no "Syntax OK"');
    like(strip_log_prefix($r->{stderr}),
         qr/^source: \Q$c\E line: 4 pos: 0 parser failed somehow near here: \(EOL\)$/m,
         '-t on a syntax error: parser error names file, line and token');
}
{
    # -t only parses: no document-root needed; unknown keys not reported
    my $r = run(args => ['-t', '-f', "$CONF/no-docroot.conf"]);
    is($r->{exit}, 0, '-t does not require server.document-root');
    is($r->{stdout}, "Syntax OK\n", '-t without document-root: "Syntax OK"');
    $r = run(args => ['-t', '-f', "$CONF/unknown-key.conf"]);
    is($r->{exit}, 0, '-t ignores unknown keys');
    is($r->{stderr}, '', '-t does not warn about unknown keys');
}

# ------------------------------------------------------------------ -tt
{
    my $r = run(args => ['-tt', '-f', "$CONF/unknown-key.conf"]);
    is($r->{exit}, 0, '-tt with an unknown key exits 0');
    is($r->{stdout}, '', '-tt prints nothing on stdout');
    is_deeply([log_messages($r->{stderr})],
              ['WARNING: unknown config-key: server.no-such-option (ignored)'],
              '-tt warns about the unknown key on stderr');
}
{
    my $r = run(args => ['-tt', '-f', "$CONF/unknown-key-refused.conf"]);
    is($r->{exit}, 255, '-tt: a module refuses its settings: exit 255');
    is_deeply([log_messages($r->{stderr})],
              ["alias.url: `/al3' will never match as `/al' matched first",
               'Configuration of plugins failed. Going down.'],
              '... and no unknown-key warning (1.4.69 warns only once the modules took theirs)');
}
{
    my $r = run(args => ['-tt', '-f', "$CONF/syntax-ok.conf"]);
    is($r->{exit}, 0, '-tt on a good config exits 0');
    is($r->{stdout}, '', '-tt on a good config: nothing on stdout');
    is($r->{stderr}, '', '-tt on a good config: nothing on stderr');
}
{
    my $r = run(args => ['-tt', '-f', "$CONF/no-docroot.conf"]);
    is($r->{exit}, 255, '-tt without server.document-root exits 255');
    my @msg = log_messages($r->{stderr});
    is($msg[0], 'server.document-root is not set', '-tt: "server.document-root is not set"');
}
{
    my $r = run(args => ['-tt', '-f', "$CONF/syntax-error.conf"]);
    is($r->{exit}, 255, '-tt on a syntax error exits 255');
}

# -tt runs the modules' checks of their settings (1.4.69's set_defaults).
{
    my $r = run(args => ['-tt', '-f', '-'], stdin => qq{server.document-root = "/tmp"\nserver.modules = ("mod_alias")\n}
                . qq{alias.url = ("/a" => "/x", "/ab" => "/y")\n});
    is($r->{exit}, 255, '-tt: alias.url with a key that can never match exits 255');
    is_deeply([log_messages($r->{stderr})],
              ["alias.url: `/ab' will never match as `/a' matched first", 'Configuration of plugins failed. Going down.'],
              '-tt: the alias.url message, then "Configuration of plugins failed"');
    my $conf = qq{server.document-root = "/tmp"\nserver.modules = ("mod_dirlisting")\ndir-listing.exclude = ("(")\n};
    $r = run(args => ['-tt', '-f', '-'], stdin => $conf);
    is($r->{exit}, 0, '-tt: a bad dir-listing.exclude is not compiled while no block enables dir-listing');
    $r = run(args => ['-tt', '-f', '-'], stdin => $conf . qq{dir-listing.activate = "enable"\n});
    is($r->{exit}, 255, '-tt: with dir-listing enabled, a bad dir-listing.exclude pattern exits 255');
    my @msg = log_messages($r->{stderr});
    is($msg[0], 'pcre2_compile: missing closing parenthesis at offset 1, regex: (', '-tt: the pcre2 message');
    is($msg[-1], 'Configuration of plugins failed. Going down.', '-tt: then "Configuration of plugins failed"');
}

# fastcgi.server bin-path hosts: a program that cannot run is warned about;
# one unix socket with two different bin-paths is fatal.
{
    my $host = sub { qq{( ( "socket" => "/tmp/lrs-cli-dup.sock", "bin-path" => "$_[0]" ) )} };
    my $base = qq{server.document-root = "/tmp"\nserver.modules = ("mod_fastcgi")\n};
    my $r = run(args => ['-tt', '-f', '-'], stdin => $base . 'fastcgi.server = ( ".a" => ' . $host->('/nonexistent/a') . " )\n");
    is($r->{exit}, 0, '-tt: a bin-path that does not exist is not fatal');
    is_deeply([log_messages($r->{stderr})],
              ['invalid "bin-path" => "/nonexistent/a" (check that file exists, is regular file, and is executable by lighttpd)'],
              '-tt: ... but warned about');
    $r = run(args => ['-tt', '-f', '-'], stdin => $base . 'fastcgi.server = ( ".a" => ' . $host->('/bin/true')
             . qq# )\n\$HTTP["url"] =^ "/x" { fastcgi.server = ( ".b" => # . $host->('/bin/false') . " ) }\n");
    is($r->{exit}, 255, '-tt: one unix socket with two bin-paths exits 255');
    is_deeply([log_messages($r->{stderr})],
              ['duplicate unixsocket path: /tmp/lrs-cli-dup.sock', 'Configuration of plugins failed. Going down.'],
              '-tt: "duplicate unixsocket path"');
    $r = run(args => ['-tt', '-f', '-'], stdin => $base . 'fastcgi.server = ( ".a" => ' . $host->('/bin/true')
             . ', ".b" => ' . $host->('/bin/true') . " )\n");
    is($r->{exit}, 0, '-tt: the same socket and bin-path twice is one shared host');
}

# Modules this build does not run yet (ours; compat.md): one that guards
# content and is in use stops the start, any other with options set is
# warned about; -tt is left as 1.4.69 has it. (1.4.69 runs them: skipped.)
SKIP: {
    skip 'the reference implements these modules', 5 if $EXE =~ m{^/usr/s?bin/};
    my $port = LightyTest::free_port();
    my $base = qq{server.document-root = "/tmp"\nserver.bind = "127.0.0.1"\nserver.port = $port\n};
    my $auth = $base . qq{server.modules = ("mod_auth")\n}
        . qq{auth.require = ( "/" => ( "method" => "basic", "realm" => "r", "require" => "valid-user" ) )\n};
    my $r = run(args => ['-D', '-f', '-'], stdin => $auth, timeout => 10);
    is($r->{exit}, 255, 'mod_auth with auth.require: the server refuses to start');
    is_deeply([log_messages($r->{stderr})],
              ['mod_auth is not implemented by this build; auth.require is set, and serving without it would '
               . 'expose what it protects: remove the option or use lighttpd 1.4'],
              '... and says why');
    $r = run(args => ['-tt', '-f', '-'], stdin => $auth);
    is($r->{exit}, 0, '-tt on the same config passes, as with 1.4.69');
    $r = run(args => ['-D', '-i', '1', '-f', '-'], timeout => 10,
             stdin => $base . qq{server.modules = ("mod_setenv")\nsetenv.add-response-header = ( "X-A" => "b" )\n});
    is($r->{exit}, 0, 'mod_setenv with options: the server starts (and leaves after -i 1)');
    like(strip_log_prefix($r->{stderr}),
         qr/^WARNING: mod_setenv is not implemented by this build; its options are ignored: setenv\.add-response-header$/m,
         '... with a warning naming the ignored option');
}

# ------------------------------------------------------------------ start-up failures
# What 1.4.69 writes when the pid file, the error log or a listener cannot
# be had (strerror's text, no more), and that it exits 255.
{
    my $dir = LightyTest::_new_tmpdir('startfail');
    my $port = LightyTest::free_port();
    my $base = qq{server.document-root = "/tmp"\nserver.bind = "127.0.0.1"\nserver.port = $port\n};
    my $reference = ($EXE =~ m{^/usr/s?bin/});
    my $start = sub { run(args => ['-D', '-f', '-'], stdin => $base . $_[0], timeout => 10) };
    my $r = $start->(qq{server.pid-file = "$dir/none/p.pid"\n});
    is($r->{exit}, 255, 'pid-file in a missing directory: exit 255');
    is_deeply([log_messages($r->{stderr})],
              ["opening pid-file failed: $dir/none/p.pid: No such file or directory",
               "unlink failed for: $dir/none/p.pid: No such file or directory"], '... and why');
    mkdir "$dir/pdir";
    $r = $start->(qq{server.pid-file = "$dir/pdir"\n});
    is($r->{exit}, 255, 'pid-file naming a directory: exit 255');
    is_deeply([log_messages($r->{stderr})],
              ["pid-file exists and isn't regular file: $dir/pdir", "unlink failed for: $dir/pdir: Is a directory"],
              '... and why');
    symlink("$dir/nowhere", "$dir/dangling.pid");
    $r = $start->(qq{server.pid-file = "$dir/dangling.pid"\n});
    is($r->{exit}, 255, 'pid-file that is a dangling symlink: exit 255');
    # (1.4.69 then looks at the mode of the stat that failed: what it says
    # next varies from run to run)
    my @m = log_messages($r->{stderr});
    is($m[0], "stating existing pid-file failed: $dir/dangling.pid: No such file or directory", '... and why');
    like($m[1] // '', $reference ? qr/^(pid-file exists and isn't regular file|opening pid-file failed): \Q$dir\E/
                                 : qr/^pid-file exists and isn't regular file: \Q$dir\E\/dangling\.pid\z/,
         '... then that it is not a regular file');
    is(scalar @m, 2, '... nothing more');
    LightyTest::_spew_file("$dir/real.pid", "42\n");
    symlink("$dir/real.pid", "$dir/link.pid");
    $r = $start->(qq{server.pid-file = "$dir/link.pid"\n});
    is($r->{exit}, 255, 'pid-file that is a symlink to a file: exit 255 (never written through)');
    is_deeply([log_messages($r->{stderr})],
              ["opening pid-file failed: $dir/link.pid: Too many levels of symbolic links"], '... and why');
    is(slurp_file("$dir/real.pid"), "42\n", '... the file it points to is untouched');
    is(-l "$dir/link.pid" ? 1 : 0, $reference ? 0 : 1, '... and the link is left (1.4.69 deletes it)');
    for my $key ('server.errorlog', 'server.breakagelog') {
        $r = $start->(qq{$key = "$dir/none/e.log"\n});
        is($r->{exit}, 255, "$key in a missing directory: exit 255");
        is_deeply([log_messages($r->{stderr})],
                  ["opening errorlog '$dir/none/e.log' failed: No such file or directory",
                   'Opening errorlog failed. Going down.'], '... and why');
    }
    my $busy = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port, Listen => 1, ReuseAddr => 1);
    $r = $start->('');
    is($r->{exit}, 255, 'a port in use: exit 255');
    is_deeply([log_messages($r->{stderr})], ["can't bind to socket: 127.0.0.1:$port: Address already in use"],
              '... and why');
    close $busy;
}

# ------------------------------------------------------------------ -f - (stdin)
{
    my $r = run(args => ['-t', '-f', '-'],
                stdin => qq{server.document-root = "/nonexistent"\nserver.port = 8080\n});
    is($r->{exit}, 0, '-t -f - reads the config from stdin');
    is($r->{stdout}, "Syntax OK\n", '-t -f -: "Syntax OK"');
}
{
    my $r = run(args => ['-t', '-f', '-'], stdin => qq{server.port =\n});
    is($r->{exit}, 255, '-t -f - with a syntax error on stdin exits 255');
    like(strip_log_prefix($r->{stderr}), qr/^source: - line: \d+ pos: \d+ parser failed somehow near here: /m,
         'stdin config errors name the source "-"');
}
{
    my $r = run(args => ['-p', '-f', '-'],
                stdin => qq{server.document-root = "/from-stdin"\nserver.port = 81\n});
    is($r->{exit}, 0, '-p -f - exits 0');
    like($r->{stdout}, qr/^    server\.document-root = "\/from-stdin"$/m, '-p -f - prints the stdin config');
    like($r->{stdout}, qr/^    server\.port          = 81$/m, '-p -f - prints server.port');
}
{
    my $r = run(args => ['-tt', '-f', '-'], stdin => qq{server.port = 8080\n});
    is($r->{exit}, 255, '-tt -f - without document-root exits 255');
}

done_testing();
