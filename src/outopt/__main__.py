import sys

try:
    from outopt.cli import app
except KeyboardInterrupt:  # Ctrl-C while the libraries load: no traceback either
    sys.stderr.write("error: interrupted\n")
    sys.exit(130)

app(prog_name="outopt")
