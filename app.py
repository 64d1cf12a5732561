"""Gradio's convention (`python app.py`, `gradio app.py`): the demo lives in summarizer.webapp (`summarizer serve`)."""
from summarizer.webapp import app, demo, serve  # noqa: F401

if __name__ == "__main__":
    serve()
