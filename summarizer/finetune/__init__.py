"""Training, shipping and fitting the shipped data (`summarizer train`, `summarizer ship`).

A subpackage so that the one installed package holds it under its own name; the CLI imports it only for those
commands (torch, accelerate and peft are not needed to start any other)."""
