-- guard / record: the figures of one guarded phase, into the ledger.
INSERT INTO tenant_migrate.guard_figures (phase, direction, run_id, flow_run_id, whole_phase, stopped, figures,
                                          series, plot_path)
VALUES (%(phase)s, %(direction)s, %(run_id)s, %(flow_run_id)s, %(whole_phase)s, %(stopped)s, %(figures)s,
        %(series)s, %(plot_path)s)
RETURNING id;
