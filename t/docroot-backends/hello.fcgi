Placeholder for the ".fcgi" key of t/spawn-fcgi.t: check-local needs the file
to exist; the FastCGI backend answers, this text is never served.
