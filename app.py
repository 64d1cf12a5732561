"""Gradio's convention (`python app.py`, `gradio app.py`): a module-level `demo` and `app`, built by the factory in
summarizer.webapp with the defaults. Run as a script it is `summarizer serve`, flags included (`--port`, `--model`,
...)."""
import sys

from summarizer.cli import main
from summarizer.webapp import build_app

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))  # the app the flags describe, not the default one below

app, demo = build_app()
