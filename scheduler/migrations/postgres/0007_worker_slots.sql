-- Jobs a worker prices at once: ETAs share the work ahead among slots, not processes.
ALTER TABLE workers ADD COLUMN slots INTEGER NOT NULL DEFAULT 1;
