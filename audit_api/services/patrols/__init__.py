"""Remote patrols (issue 15): plans (plans.py), rounds walked by inspectors (rounds.py) and the schedule
check that flags missed or incomplete slots and alerts them (schedule.py)."""
