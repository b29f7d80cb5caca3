"""Great Expectations validation of each phase: suites in expectations/, run as checkpoints."""
