# The report's sentences in English. Every message here must also be in
# id.ftl (a test checks). Arguments are facts of the run; `-> [one] ...`
# picks the plural form from a count.

## The report's frame

report-title = Experiment: { $name }
report-ran = What ran where
col-machine = machine
col-command = command
col-exit = exit
server-ours = our server
server-student = the student's server
server-unknown = not ours: ours was not running
server-log = the server's log
not-finished = did not finish
report-findings = Findings
report-expected = This run showed what the experiment is about.
report-unexpected = This run did not show what the experiment is about; the findings say what happened instead.
report-last-lines = The last lines of `{ $command }` on { $machine }:
report-more-lines = ... ({ $n } more { $n ->
    [one] line
   *[other] lines
  })
report-walk = One conversation, step by step
report-timeline = Timeline
report-logs = Logs
report-files = Files here: `capture.pcap` (open it in Wireshark), `summary.txt` and `summary.json` (pcap-summary), `timeline.svg`, `ladder.svg` and `ladder.png` (the conversation above as a ladder diagram; `overview.svg`/`.png` for all of them when there are several), `report.html` (all of this as one page), `findings.json` (the facts behind every sentence above), `plan.json`, `runs.jsonl`, and the logs and results above.

## Facts every experiment reports

impaired-loss = During this run { $machine }'s link dropped { $loss }% of the packets it sent{ $both ->
    [yes] {" "}and received
   *[no] {""}
  }, at random (make impair / LOSS=).
impaired-delay = During this run the packets { $machine } sent were delayed by { $delay } ms{ $jitter ->
    [none] {""}
   *[other] , give or take { $jitter } ms
  } (DELAY=).
impaired-rate = During this run { $machine } could send at most { $rate } (RATE=).
student-server = A student's server stood in for ours on mesin-1: `{ $command }`.
student-server-not-listening = The student's server `{ $command }` was not listening on port { $port } when the clients started (its log is below).
server-not-listening = Our server was not listening on port { $port } when the clients started.
server-unknown-listening = Our server was not running on mesin-1 (stopped with `labctl stop`?), yet a program listened on port { $port }: this report shows that program, not ours. Name it with SERVER="..." so the report can say what it is, or start ours with `labctl start`.
server-unknown-silent = Our server was not running on mesin-1 (stopped with `labctl stop`?), and nothing listened on port { $port } when the clients started.
capture-holds = The capture holds { $packets } { $packets ->
    [one] packet
   *[other] packets
  } ({ $tcp } TCP) in { $conversations } TCP { $conversations ->
    [one] conversation
   *[other] conversations
  }; at most { $most } { $most ->
    [one] was
   *[other] were
  } open at once.
capture-empty = The capture holds no packets.
capture-dropped = tcpdump dropped { $dropped } { $dropped ->
    [one] packet
   *[other] packets
  } it could not keep up with: the capture misses { $dropped ->
    [one] it
   *[other] them
  }, so counts here may be short.
capture-problem = The capture file has a problem: { $error }.
folder-problem = A file of this run could not be read: { $problem }.
result-missing = `{ $command }` ended without writing its result (--json), so what it saw is not known.
program-failed = `{ $command }` on { $machine } exited with code { $exit }.
program-unfinished = `{ $command }` on { $machine } has no record of ending: it was interrupted, or never started.
resent = In conversation #{ $conversation } ({ $client }) { $segments } { $segments ->
    [one] segment was
   *[other] segments were
  } sent again: { $bytes } payload { $bytes ->
    [one] byte
   *[other] bytes
  } crossed the wire more than once.
stream-bytes-note = Byte counts in this report are stream bytes (each byte of a stream once, as captured) unless they say "on the wire".
out-of-order = In conversation #{ $conversation } ({ $client }) { $segments } { $segments ->
    [one] segment was
   *[other] segments were
  } captured out of order: a later segment came first and left a hole it filled.
reset = Conversation #{ $conversation } ({ $client }) ended with RST from { $sender } at { $time } s: the connection was aborted, not closed with FIN.
reset-after-fin = Conversation #{ $conversation } ({ $client }) ended with RST from { $sender } at { $time } s, after a FIN: a side that has closed answers anything more with RST.
refused = { $client }'s connection #{ $conversation } was refused: its SYN was answered with RST from { $sender } at { $time } s (nothing listened on that port).

## Echo (t1-echo, t1-file)

echo-no-conversation = The capture holds no conversation with port { $port }: the client never reached the server.
echo-bytes = { $client } sent { $sent } { $sent ->
    [one] byte
   *[other] bytes
  } to port { $port } and { $same ->
    [same] got the same { $back } back
    [less] got only { $back } back
   *[more] got { $back } back, more than it sent
  } (stream bytes).
echo-wire = On the wire that was { $wiresent } payload { $wiresent ->
    [one] byte
   *[other] bytes
  } out and { $wireback } back, because { $segments } { $segments ->
    [one] segment was
   *[other] segments were
  } sent again.
echo-client-identical = echo-client on { $machine } read the echo in { $pieces } { $pieces ->
    [one] piece
   *[other] pieces
  } of at most { $chunk } { $chunk ->
    [one] byte
   *[other] bytes
  } and found { $bytes ->
    [one] the 1 byte
   *[other] all { $bytes } bytes
  } identical to what it sent ({ $rounds } { $rounds ->
    [one] round
   *[other] rounds
  }).
echo-client-different = echo-client on { $machine } sent { $sent } { $sent ->
    [one] byte
   *[other] bytes
  } and read { $received } back, and reported: { $error }

## Iterative server (t1-iterative)

iterative-waited = { $second } connected at { $connected } s but got its first echo byte only at { $echo } s: it waited { $waited } s after its handshake, until { $first }'s connection ended (at { $ended } s). The server serves one client at a time.
iterative-overlapped = { $second } got its first echo byte at { $echo } s, before { $first }'s connection ended (at { $ended } s): the server served both at once.
iterative-no-overlap = { $second } connected at { $connected } s, after { $first }'s connection had ended (at { $ended } s): the two connections did not overlap, so this run cannot show whether the server serves one client at a time.
iterative-not-two = The capture holds { $served } echo { $served ->
    [one] connection
   *[other] connections
  } that got an answer, not the two this experiment compares.

## Time (t2-time, t2-concurrent)

time-exchange = { $complete ->
    [yes] {""}
   *[no] In the first data segments the summary kept,{" "}
  }{ $client } sent TIME { $times } { $times ->
    [one] time
   *[other] times
  } and got { $jams ->
    [0] no JAM reply
    [one] 1 JAM reply ({ $replies })
   *[other] { $jams } JAM replies ({ $replies })
  }{ $quit ->
    [yes] , then QUIT
   *[no] {""}
  }; { $closer ->
    [client] the client sent the first FIN
    [server] the server sent the first FIN
   *[nobody] nobody sent a FIN
  }.
time-other-replies = The server also sent { $client } { $n ->
    [one] a line that is not a JAM reply
   *[other] { $n } lines that are not JAM replies
  }: { $lines }.
time-no-conversation = The capture holds no conversation with port { $port }: the client never reached the time server.
time-client-good = time-client on { $machine } ran { $sessions } { $sessions ->
    [one] session
   *[other] sessions
  } and checked { $replies } { $replies ->
    [one] reply
   *[other] replies
  }: every one was JAM hh:mm:ss, and the server closed after QUIT.
time-client-no-session = time-client on { $machine } ran no session (it was interrupted before the first one ended).
time-client-bad = time-client on { $machine }: { $bad } of { $sessions } { $sessions ->
    [one] session
   *[other] sessions
  } failed; the first said: { $error }
concurrent-overlap = Up to { $most } of the { $connections } connections to port { $port } (from { $clients }) were being answered at the same time (from a connection's first reply to its end): the server handled several clients concurrently.
concurrent-one-at-a-time = The { $connections } { $connections ->
    [one] connection
   *[other] connections
  } to port { $port } (from { $clients }) were answered one at a time: up to { $open } were open at once, but no connection got a reply while another that had got one was still open. The server served one client at a time.

## CR LF (t2-crlf)

crlf-reply = `{ $sent }` got a reply: `{ $line }`.
crlf-error = `{ $sent }` got ERROR: `{ $line }`.
crlf-nothing = `{ $sent }` got nothing within { $secs } s.
crlf-partial = `{ $sent }` got `{ $partial }` but no line end within { $secs } s.
crlf-closed = `{ $sent }`: the server closed the connection.
crlf-too-long = `{ $sent }` got a line longer than { $limit } bytes.
crlf-not-sent = `{ $sent }` was not sent: the connection had already ended.
crlf-failed = `{ $sent }`: the connection failed: { $reason }
crlf-probe-error = time-client crlf reported: { $error }
crlf-as-asked = Only the line that ends in CR LF and begins with TIME got JAM; the bare LF and the unknown command got ERROR, and the connection stayed open.
crlf-no-answer = The server answered none of the requests, so this run does not show how it handles CR LF.
crlf-not-as-asked = So this server does not answer as the assignment asks: a bare LF and an unknown command should get ERROR, TIME with CR LF should get JAM, and the connection should stay open.

## Socket info (t1-socket-info)

socket-info-entries = On { $machine }, `{ $command }` got { $entries } getaddrinfo { $entries ->
    [one] entry
   *[other] entries
  }: { $addresses } as { $types }.
socket-info-timeouts = On { $machine } a new socket had { $before ->
    [none] no timeout (None: it blocks)
   *[other] a timeout of { $before } s
  }; after settimeout({ $requested }) it had { $after ->
    [none] none
   *[other] { $after } s
  }.
socket-info-error = On { $machine }, `{ $command }` could not resolve the name: { $error }
socket-info-no-packets-inside = Nothing crossed the lab bridge: a name is looked up inside each machine (in /etc/hosts, or by the resolver at { $resolvers } from /etc/resolv.conf, an address inside the machine), and socket-info opens no connection.
socket-info-no-packets = Nothing socket-info did crossed the lab bridge (the machines' resolvers: { $resolvers }).

## One conversation, step by step

walk-title = Conversation #{ $id }: client { $client } to server { $server }.
walk-step = at { $time } s { $sender } sent [{ $flags }] seq={ $seq }
walk-step-ack = at { $time } s { $sender } sent [{ $flags }] seq={ $seq }, ack={ $ack }
walk-handshake = Three-way handshake.
walk-syn = SYN asks to open a connection; seq=0 is the client's first sequence number, shown relative as Wireshark does.
walk-syn-ack = the server agrees (SYN) and acknowledges the client's SYN (ack=1 = the client's seq + 1).
walk-ack = the client acknowledges the server's SYN; the connection is open. Handshake round trip: { $rtt } ms.
walk-no-handshake = The capture does not hold the whole handshake.
walk-data = Data (PSH,ACK segments).
walk-more-segments = ... and { $n } more data { $n ->
    [one] segment
   *[other] segments
  } (see summary.txt).
walk-no-data = No data was sent.
walk-data-explained = PSH asks the receiver to hand the data to the program at once; ACK acknowledges everything up to its number, so each side's ack grows by the other's payload length.
walk-teardown = Teardown.
walk-still-open = The connection was still open at the end of the capture.
walk-rst = RST: the connection is aborted.
walk-fin = FIN: this side has nothing more to send.
walk-last-ack = the last ACK: the other side's FIN is acknowledged; the connection is closed.

## The expert analysis's flags on a segment (tshark's names), in the walk-through
expert-retransmission = sent again
expert-fast-retransmission = fast retransmission: sent again at once after duplicate ACKs
expert-spurious-retransmission = spurious retransmission: sent again though already acknowledged
expert-out-of-order = out of order
expert-duplicate-ack = duplicate ACK
expert-lost-segment = a segment before this one was not captured
expert-ack-lost-segment = acknowledges a segment that was not captured
expert-zero-window = zero window: the receiver has no room
expert-window-full = fills the receiver's window
expert-window-update = window update
expert-keep-alive = keep-alive
expert-keep-alive-ack = keep-alive ACK
expert-zero-window-probe = zero-window probe
expert-zero-window-probe-ack = zero-window probe ACK

## report.html and the pictures
report-ladder = The conversation as a ladder diagram
report-overview = All the conversations on one picture
report-conversations = Every conversation
report-stream = The byte stream, each byte once (like Wireshark's Follow TCP Stream)
report-no-stream = No payload bytes were captured in this conversation.
report-picture-failed = The PNG picture could not be drawn: { $reason }
report-html = The same report as one page that opens offline: [report.html](report.html).

## t3-loss: TCP over a lossy link

loss-no-link = No lossy link was recorded for this run (impairment.json is missing): whatever the capture shows, it was not made lossy on purpose.
loss-nothing-resent = TCP sent nothing again: no data segment of this transfer was lost (a lost ACK needs no resend, so the capture cannot tell whether any packet was lost at all).
loss-try-again = A short transfer can be lucky: run it again, or raise T3_LOSS.
loss-resent = TCP sent { $n } { $n ->
    [one] segment
   *[other] segments
  } again: { $fast } as fast { $fast ->
    [one] retransmission
   *[other] retransmissions
  } (at once, because duplicate ACKs said the bytes were missing), { $timeout } later than that (tshark's plain retransmissions: after the retransmission timer, or while recovering from several losses at once), and { $spurious } that { $spurious ->
    [one] was
   *[other] were
  } not needed (the first copy had arrived; the ACK was lost instead).
loss-dupacks = The receiver sent { $n } duplicate { $n ->
    [one] ACK
   *[other] ACKs
  }: each repeats the number of the first byte it is missing, so the sender learns of a hole without waiting for its timer.
loss-example-fast = For example, at { $time } s in conversation #{ $conversation }: { $words } (fast: after the duplicate ACKs).
loss-example-timeout = For example, at { $time } s in conversation #{ $conversation }: { $words } (a plain retransmission).
loss-example-timer = For example, at { $time } s in conversation #{ $conversation }: { $words } (a plain retransmission, 200 ms or more after the original: most likely no ACK had come for it and the retransmission timer ran out).
loss-example-recovery = For example, at { $time } s in conversation #{ $conversation }: { $words } (a plain retransmission, yet sooner than Linux's retransmission timer ever fires, 200 ms at the least, so not the timer's: TCP sent it early on its own, recovering from losses the ACKs pointed to, or probing for a lost last segment with a tail loss probe).
loss-holes = The capture also shows { $lost } { $lost ->
    [one] segment
   *[other] segments
  } after a gap (a previous segment not captured) and { $ooo } out of order: the order on the wire is not the order of the stream.
loss-intact = And still the file arrived intact: TCP hides the losses from the programs, which only see the bytes, in order, once.

## t3-flow: flow control

flow-reader = echo-client on mesin-2 read the echo slowly: 16 bytes at a time, pausing { $pause } s after each, into a receive buffer of { $buffer } bytes.
flow-no-zero-window = The capture shows no zero window: the reader kept up this time (a bigger file, a longer T3_PAUSE or a smaller T3_BUFFER shows it).
flow-zero-window = mesin-2 announced a zero window { $n } { $n ->
    [one] time
   *[other] times
  }: its receive buffer was full, so mesin-1 had to stop sending until the program read some of it.
flow-example-zero = For example, at { $time } s in conversation #{ $conversation }: { $words }.
flow-window-full = { $n } { $n ->
    [one] segment
   *[other] segments
  } filled mesin-2's window to its last byte (window full): the sender may send no more than the receiver's window.
flow-probes = While the window was closed, the sender probed it { $n } { $n ->
    [one] time
   *[other] times
  } to learn when it opened ({ $keepalive } of them one byte before the next sequence number, which is how Linux probes and why tshark calls them keep-alives).
flow-updates = mesin-2 sent { $n } window { $n ->
    [one] update
   *[other] updates
  } as the program read and made room: each reopens the window, and the sender goes on.
flow-example-update = For example, at { $time } s in conversation #{ $conversation }: { $words }.
flow-why = This is flow control: the receiver, not the network, set the pace. Congestion control is the other brake, the sender's own, for a network that loses packets (t3-loss).
flow-resent = { $n } { $n ->
    [one] segment was
   *[other] segments were
  } sent again as well (tshark's words for each are in the walk-through below).

## index.html (make scenario S=all)
index-title = The experiments run in this folder
index-none = No experiment has been run here yet: make scenario S=all
index-run = experiment (its report)
index-verdict = verdict
index-first-finding = first finding
index-count = { $n } { $n ->
    [one] run
   *[other] runs
  }, newest first. Each folder also has REPORT.md, the capture and the facts behind every sentence.
