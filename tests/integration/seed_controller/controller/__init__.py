# completed for the test: not in the seed
# The controller package of seed 004 §3.6.4.
