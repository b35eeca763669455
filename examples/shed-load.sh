#!/bin/sh
# What a node does when its supervisor asks it to shed load: here it only says so. A real one
# would stop taking new work, or move some elsewhere. `wyneos agent --on-reduce-load` runs it
# with the action in its environment.
echo "shedding load on ${WYNEOS_NODE_ID}: ${WYNEOS_REASON}"
