"""The yardstick for bench/webhooks.py: an IVR in the shape of the public samples.

Every POST answers a Gather with a Say, built with twilio's VoiceResponse, the
same kind of TwiML our webhooks return, with no signature check, no flow and
no records. Whatever our app costs beyond this is the price of checking
signatures, understanding the caller and writing the call down.
"""
from __future__ import annotations

from flask import Flask, Response, request
from twilio.twiml.voice_response import Gather, VoiceResponse

app = Flask(__name__)

PROMPT = ("Hold up the cable's weight with one hand. With the other, press unlock on the key fob "
          "five times. Then try the plug again. Did it come out?")


@app.get("/healthz")
def healthz():
    return "ok"


@app.post("/", defaults={"path": ""})
@app.post("/<path:path>")
def answer(path: str):
    response = VoiceResponse()
    gather = Gather(input="dtmf speech", action="/voice/turn", method="POST", timeout=10,
                    speech_timeout=2, language="en-US", num_digits=1)
    gather.say(PROMPT, voice="Polly.Joanna-Neural", language="en-US")
    response.append(gather)
    response.redirect("/voice/turn", method="POST")
    _ = request.form  # read the body, as every sample reads Digits or SpeechResult
    return Response(str(response), mimetype="text/xml")
