"""The embedded lab: a simulated SSCC access network on loopback (docs/lab.md).

`control` is the API others use (lab_up, lab_down, LabClient); `testing` builds
collision-free lab inventories for tests. The supervisor and gateway modules run as
their own processes.
"""
