from outopt.cli import app

app(prog_name="outopt")
