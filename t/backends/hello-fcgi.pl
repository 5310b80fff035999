#!/usr/bin/perl
# A Perl FastCGI responder with the FCGI module (Debian libfcgi-perl), for
# t/perl-fcgi.t:
#   hello-fcgi.pl SOCKET-PATH   opens its own unix socket (FCGI::OpenSocket),
#                               an external backend for lighttpd's "socket";
#   hello-fcgi.pl               the socket is fd 0, as lighttpd's "bin-path"
#                               hands it over (FCGI::Request's default).
# The body echoes a few CGI variables, a request counter and the pid, some
# values of the process environment, and the length and MD5 of the request
# body. QUERY_STRING "stderr" writes a line to FCGI_STDERR; "big=N" appends
# N bytes of a fixed pattern.
use strict;
use warnings;
use FCGI;
use Digest::MD5 qw(md5_hex);

my $path = shift;
my $socket = defined $path ? FCGI::OpenSocket($path, 16) : 0;
die "cannot open $path\n" if defined $path && !defined $socket;
my %env;
my $req = FCGI::Request(\*STDIN, \*STDOUT, \*STDERR, \%env, $socket);

# the process environment, as lighttpd (bin-environment,
# bin-copy-environment) or whoever started us set it up
my $procenv = join(' ', map { "$_=" . ($ENV{$_} // '-') } qw(HELLO_GREETING NOT_COPIED PHP_FCGI_CHILDREN));

my $n = 0;
while ($req->Accept() >= 0) {
    $n++;
    my $len = $env{CONTENT_LENGTH} || 0;
    my $body = '';
    while (length($body) < $len) {
        my $got = read(STDIN, $body, $len - length($body), length($body));
        last unless $got;
    }
    my $qs = $env{QUERY_STRING} // '-';
    print STDERR "hello-fcgi.pl says hello on stderr\n" if $qs eq 'stderr';
    print "Content-Type: text/plain\r\nX-Backend: perl-fcgi\r\n\r\n";
    print "hello from perl #$n pid=$$\n";
    print "$_=", ($env{$_} // '-'), "\n" for qw(SCRIPT_NAME PATH_INFO QUERY_STRING REQUEST_METHOD);
    print "env $procenv\n";
    print 'body_len=', length($body), ' body_md5=', md5_hex($body), "\n";
    if ($qs =~ /^big=(\d+)$/) {
        my $chunk = join('', map { chr(ord('a') + $_ % 26) } 0 .. 999);
        my $left = $1;
        while ($left > 0) {
            my $k = $left < 1000 ? $left : 1000;
            print substr($chunk, 0, $k);
            $left -= $k;
        }
    }
}
FCGI::CloseSocket($socket) if defined $path;
