-- The server's pid, which it records when it starts, so the broker's
-- delivery thread can wake the server's long polls (SIGURG) once it has
-- put a message in a queue: the server's own sends wake them at once, but
-- the broker's, written by another process, were found only at the long
-- polls' periodic re-check, up to 250 ms later. 0 until a server started.
ALTER TABLE emulator_state ADD COLUMN server_pid INTEGER NOT NULL DEFAULT 0;
