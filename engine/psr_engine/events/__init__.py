"""Events and their sinks. Import the submodules you need; nothing heavy here."""
