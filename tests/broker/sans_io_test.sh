#!/bin/sh
# The broker opens no socket and knows no transport: its sources include neither
# Asio nor net nor socket headers, and its library calls no socket function.
# usage: sans_io_test.sh <source dir> <libiotblocks_broker>
set -eu
src=$1 lib=$2
if grep -rEn 'asio|iotblocks/net|sys/socket|netinet|boost/' "$src/lib/broker" "$src/include/iotblocks/broker"; then
  echo "the broker includes I/O headers (above)" >&2
  exit 1
fi
calls=$(nm --undefined-only "$lib" | awk '{print $NF}' |
        grep -Ex '(socket|connect|bind|listen|accept4?|send|sendmsg|recv|recvmsg|poll|epoll_wait|select)(@.*)?' || true)
if [ -n "$calls" ]; then
  echo "the broker library calls socket functions: $calls" >&2
  exit 1
fi
nm --undefined-only "$lib" | grep -q 'mqtt' || { echo "nm saw no mqtt symbol: wrong library?" >&2; exit 1; }
echo "sans I/O: no I/O headers, no socket calls"
