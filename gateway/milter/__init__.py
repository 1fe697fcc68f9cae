"""The Postfix milter: pymilter adapter (app), decision engine, worker pool, spool."""
