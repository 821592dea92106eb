"""Running Token Atlas as a service: K replicas behind nginx (launch.py), its proxy template and compose file."""
