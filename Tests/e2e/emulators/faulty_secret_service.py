#!/usr/bin/python3
"""A faulty owner of org.freedesktop.secrets on a session bus, for the keyring fault tests.

Usage: faulty_secret_service.py MODE, with DBUS_SESSION_BUS_ADDRESS the bus to claim the name on
and, for the modes that pass calls on, UPSTREAM the address of a bus where a real Secret Service
(gnome-keyring) runs. Every method call it receives is logged to FAULTLOG (time, member, sender).

MODE:
  garbage           answers every call with (si) "garbage", 7: no Secret Service reply has that type
  hang              never answers
  slow:METHOD:SECS  passes every call on, answering METHOD SECS seconds late (the call itself is
                    made at once: the real service has done it when the late answer leaves)
  readback-garbage  passes every call on, but once a CreateItem was made, answers SearchItems with
                    garbage to connections that never opened a session (a new client reading back)

Runs in Debian's Python (python3-dbus, python3-gi). Prints "ready" once it owns the name.
"""
import os
import sys
import time

import dbus
import dbus.lowlevel as lowlevel
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

DBusGMainLoop(set_as_default=True)
MODE = sys.argv[1]
bus = dbus.bus.BusConnection(os.environ["DBUS_SESSION_BUS_ADDRESS"])
upstream = dbus.bus.BusConnection(os.environ["UPSTREAM"]) if "UPSTREAM" in os.environ else None
log = open(os.environ.get("FAULTLOG", "/dev/null"), "a", buffering=1)
held = []  # calls never answered (hang)
sessions = set()  # senders that opened a session
state = {"created": False}


def garbage(connection, message):
    reply = lowlevel.MethodReturnMessage(message)
    reply.append(dbus.String("garbage"), dbus.Int32(7))
    connection.send_message(reply)


def pass_on(connection, message, delay):
    call = lowlevel.MethodCallMessage("org.freedesktop.secrets", message.get_path(), message.get_interface(),
                                      message.get_member())
    arguments = message.get_args_list()
    if arguments:
        call.append(signature=message.get_signature(), *arguments)
    try:
        answer = upstream.send_message_with_reply_and_block(call, 25)
        reply = lowlevel.MethodReturnMessage(message)
        if answer.get_args_list():
            reply.append(signature=answer.get_signature(), *answer.get_args_list())
    except dbus.DBusException as error:
        reply = lowlevel.ErrorMessage(message, error.get_dbus_name() or "org.freedesktop.DBus.Error.Failed", str(error))

    def send():
        connection.send_message(reply)
        return False
    GLib.timeout_add(int(delay * 1000), send)


def on_message(connection, message):
    if message.get_type() != lowlevel.MESSAGE_TYPE_METHOD_CALL or message.get_destination() == "org.freedesktop.DBus":
        return lowlevel.HANDLER_RESULT_NOT_YET_HANDLED
    member, sender = message.get_member(), message.get_sender()
    log.write(f"{time.time():.3f} {member} {sender}\n")
    if MODE == "garbage":
        garbage(connection, message)
    elif MODE == "hang":
        held.append(message)
    elif MODE.startswith("slow:"):
        _, slow_member, seconds = MODE.split(":")
        pass_on(connection, message, float(seconds) if member == slow_member else 0)
    elif MODE == "readback-garbage":
        if member == "OpenSession":
            sessions.add(sender)
        if member == "CreateItem":
            state["created"] = True
        if member == "SearchItems" and state["created"] and sender not in sessions:
            garbage(connection, message)
        else:
            pass_on(connection, message, 0)
    return lowlevel.HANDLER_RESULT_HANDLED


bus.add_message_filter(on_message)
if upstream is not None:
    def forward_signal(connection, message):
        if message.get_type() == lowlevel.MESSAGE_TYPE_SIGNAL:
            signal = lowlevel.SignalMessage(message.get_path(), message.get_interface(), message.get_member())
            if message.get_args_list():
                signal.append(signature=message.get_signature(), *message.get_args_list())
            bus.send_message(signal)
        return lowlevel.HANDLER_RESULT_NOT_YET_HANDLED
    upstream.add_match_string("type='signal',sender='org.freedesktop.secrets'")
    upstream.add_message_filter(forward_signal)
bus.request_name("org.freedesktop.secrets")
print("ready", flush=True)
GLib.MainLoop().run()
