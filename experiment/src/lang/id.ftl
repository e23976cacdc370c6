# Kalimat laporan dalam Bahasa Indonesia. Setiap pesan di en.ftl harus ada
# juga di sini (diperiksa oleh tes). Bahasa Indonesia tidak punya bentuk
# jamak, jadi hitungan cukup ditulis sebagai angka.

## Kerangka laporan

report-title = Percobaan: { $name }
report-ran = Apa yang dijalankan di mana
col-machine = mesin
col-command = perintah
col-exit = kode keluar
server-ours = server kami
server-student = server mahasiswa
server-unknown = bukan server kami: server kami tidak berjalan
server-log = log server
not-finished = tidak selesai
report-findings = Temuan
report-expected = Percobaan ini menunjukkan apa yang ingin ditunjukkan.
report-unexpected = Percobaan ini tidak menunjukkan apa yang ingin ditunjukkan; temuan di bawah menjelaskan apa yang terjadi.
report-last-lines = Baris terakhir dari `{ $command }` di { $machine }:
report-more-lines = ... ({ $n } baris lagi)
report-walk = Satu percakapan, langkah demi langkah
report-timeline = Garis waktu
report-logs = Log
report-files = Berkas di sini: `capture.pcap` (buka di Wireshark), `summary.txt` dan `summary.json` (pcap-summary), `timeline.svg`, `ladder.svg` dan `ladder.png` (percakapan di atas sebagai diagram tangga; `overview.svg`/`.png` untuk semuanya bila ada beberapa), `report.html` (semua ini dalam satu halaman), `findings.json` (fakta di balik setiap kalimat di atas), `plan.json`, `runs.jsonl`, serta log dan hasil di atas.

## Fakta yang dilaporkan setiap percobaan

impaired-loss = Selama percobaan ini link { $machine } membuang { $loss }% paket yang dikirimnya{ $both ->
    [yes] {" "}dan diterimanya
   *[no] {""}
  }, secara acak (make impair / LOSS=).
impaired-delay = Selama percobaan ini paket yang dikirim { $machine } ditunda { $delay } ms{ $jitter ->
    [none] {""}
   *[other] , kurang lebih { $jitter } ms
  } (DELAY=).
impaired-rate = Selama percobaan ini { $machine } hanya dapat mengirim paling banyak { $rate } (RATE=).
student-server = Server mahasiswa menggantikan server kami di mesin-1: `{ $command }`.
student-server-not-listening = Server mahasiswa `{ $command }` tidak mendengarkan (listen) di port { $port } saat klien dimulai (lognya ada di bawah).
server-not-listening = Server kami tidak mendengarkan (listen) di port { $port } saat klien dimulai.
server-unknown-listening = Server kami tidak berjalan di mesin-1 (dihentikan dengan `labctl stop`?), tetapi ada program yang mendengarkan di port { $port }: laporan ini menunjukkan program itu, bukan server kami. Sebutkan program itu dengan SERVER="..." agar laporan dapat menyebutnya, atau jalankan server kami dengan `labctl start`.
server-unknown-silent = Server kami tidak berjalan di mesin-1 (dihentikan dengan `labctl stop`?), dan tidak ada yang mendengarkan di port { $port } saat klien dimulai.
capture-holds = Tangkapan memuat { $packets } paket ({ $tcp } TCP) dalam { $conversations } percakapan TCP; paling banyak { $most } terbuka bersamaan.
capture-empty = Tangkapan tidak memuat paket.
capture-dropped = tcpdump membuang { $dropped } paket karena tidak sempat menyimpannya: tangkapan tidak memuatnya, jadi jumlah di sini bisa kurang.
capture-problem = Berkas tangkapan bermasalah: { $error }.
folder-problem = Sebuah berkas dari percobaan ini tidak dapat dibaca: { $problem }.
result-missing = `{ $command }` berakhir tanpa menulis hasilnya (--json), jadi apa yang dilihatnya tidak diketahui.
program-failed = `{ $command }` di { $machine } keluar dengan kode { $exit }.
program-unfinished = `{ $command }` di { $machine } tidak tercatat selesai: ia terhenti, atau tidak pernah dimulai.
resent = Dalam percakapan #{ $conversation } ({ $client }) { $segments } segmen dikirim ulang: { $bytes } byte payload melewati jaringan lebih dari sekali.
stream-bytes-note = Jumlah byte dalam laporan ini adalah byte stream (setiap byte dari sebuah stream dihitung sekali, seperti yang tertangkap) kecuali disebut "di jaringan".
out-of-order = Dalam percakapan #{ $conversation } ({ $client }) { $segments } segmen tertangkap tidak berurutan: segmen yang lebih akhir datang lebih dulu dan meninggalkan celah yang kemudian diisi.
reset = Percakapan #{ $conversation } ({ $client }) diakhiri dengan RST dari { $sender } pada { $time } s: koneksi dibatalkan, bukan ditutup dengan FIN.
reset-after-fin = Percakapan #{ $conversation } ({ $client }) diakhiri dengan RST dari { $sender } pada { $time } s, setelah FIN: sisi yang sudah menutup menjawab data berikutnya dengan RST.
refused = Koneksi #{ $conversation } dari { $client } ditolak: SYN-nya dijawab dengan RST dari { $sender } pada { $time } s (tidak ada yang mendengarkan di port itu).

## Echo (t1-echo, t1-file)

echo-no-conversation = Tangkapan tidak memuat percakapan dengan port { $port }: klien tidak pernah mencapai server.
echo-bytes = { $client } mengirim { $sent } byte ke port { $port } dan { $same ->
    [same] menerima kembali { $back } byte yang sama
    [less] hanya menerima kembali { $back } byte
   *[more] menerima kembali { $back } byte, lebih banyak dari yang dikirim
  } (byte stream).
echo-wire = Di jaringan, payload yang lewat { $wiresent } byte keluar dan { $wireback } byte kembali, karena { $segments } segmen dikirim ulang.
echo-client-identical = echo-client di { $machine } membaca echo dalam { $pieces } potongan paling banyak { $chunk } byte dan mendapati semua { $bytes } byte identik dengan yang dikirim ({ $rounds } putaran).
echo-client-different = echo-client di { $machine } mengirim { $sent } byte dan membaca { $received } byte kembali, dan melaporkan: { $error }

## Server iteratif (t1-iterative)

iterative-waited = { $second } terhubung pada { $connected } s tetapi baru menerima byte echo pertama pada { $echo } s: ia menunggu { $waited } s setelah handshake, sampai koneksi { $first } selesai (pada { $ended } s). Server melayani satu klien pada satu waktu.
iterative-overlapped = { $second } menerima byte echo pertama pada { $echo } s, sebelum koneksi { $first } selesai (pada { $ended } s): server melayani keduanya sekaligus.
iterative-no-overlap = { $second } terhubung pada { $connected } s, setelah koneksi { $first } selesai (pada { $ended } s): kedua koneksi tidak tumpang tindih, jadi percobaan ini tidak dapat menunjukkan apakah server melayani satu klien pada satu waktu.
iterative-not-two = Tangkapan memuat { $served } koneksi echo yang dijawab, bukan dua yang dibandingkan percobaan ini.

## Waktu (t2-time, t2-concurrent)

time-exchange = { $complete ->
    [yes] {""}
   *[no] Dalam segmen data pertama yang disimpan ringkasan,{" "}
  }{ $client } mengirim TIME { $times } kali dan { $jams ->
    [0] tidak menerima balasan JAM
   *[other] menerima { $jams } balasan JAM ({ $replies })
  }{ $quit ->
    [yes] , lalu mengirim QUIT
   *[no] {""}
  }; { $closer ->
    [client] klien mengirim FIN pertama
    [server] server mengirim FIN pertama
   *[nobody] tidak ada yang mengirim FIN
  }.
time-other-replies = Server juga mengirim ke { $client } { $n } baris yang bukan balasan JAM: { $lines }.
time-no-conversation = Tangkapan tidak memuat percakapan dengan port { $port }: klien tidak pernah mencapai server waktu.
time-client-good = time-client di { $machine } menjalankan { $sessions } sesi dan memeriksa { $replies } balasan: semuanya JAM hh:mm:ss, dan server menutup koneksi setelah QUIT.
time-client-no-session = time-client di { $machine } tidak menjalankan satu sesi pun (ia terhenti sebelum sesi pertama selesai).
time-client-bad = time-client di { $machine }: { $bad } dari { $sessions } sesi gagal; yang pertama melaporkan: { $error }
concurrent-overlap = Hingga { $most } dari { $connections } koneksi ke port { $port } (dari { $clients }) sedang dilayani bersamaan (dari balasan pertama sebuah koneksi sampai akhirnya): server melayani beberapa klien secara konkuren.
concurrent-one-at-a-time = { $connections } koneksi ke port { $port } (dari { $clients }) dilayani satu per satu: hingga { $open } terbuka bersamaan, tetapi tidak ada koneksi yang menerima balasan selama koneksi lain yang sudah dibalas masih terbuka. Server melayani satu klien pada satu waktu.

## CR LF (t2-crlf)

crlf-reply = `{ $sent }` mendapat balasan: `{ $line }`.
crlf-error = `{ $sent }` mendapat ERROR: `{ $line }`.
crlf-nothing = `{ $sent }` tidak mendapat apa-apa dalam { $secs } s.
crlf-partial = `{ $sent }` mendapat `{ $partial }` tetapi tanpa akhir baris dalam { $secs } s.
crlf-closed = `{ $sent }`: server menutup koneksi.
crlf-too-long = `{ $sent }` mendapat baris lebih panjang dari { $limit } byte.
crlf-not-sent = `{ $sent }` tidak dikirim: koneksi sudah berakhir.
crlf-failed = `{ $sent }`: koneksi gagal: { $reason }
crlf-probe-error = time-client crlf melaporkan: { $error }
crlf-as-asked = Hanya baris yang diakhiri CR LF dan diawali TIME yang mendapat JAM; LF saja dan perintah tak dikenal mendapat ERROR, dan koneksi tetap terbuka.
crlf-no-answer = Server tidak menjawab satu permintaan pun, jadi percobaan ini tidak menunjukkan cara server menangani CR LF.
crlf-not-as-asked = Jadi server ini tidak menjawab seperti yang diminta tugas: LF saja dan perintah tak dikenal seharusnya mendapat ERROR, TIME dengan CR LF seharusnya mendapat JAM, dan koneksi seharusnya tetap terbuka.

## Info socket (t1-socket-info)

socket-info-entries = Di { $machine }, `{ $command }` mendapat { $entries } entri getaddrinfo: { $addresses } sebagai { $types }.
socket-info-timeouts = Di { $machine } socket baru { $before ->
    [none] tidak punya timeout (None: blocking)
   *[other] punya timeout { $before } s
  }; setelah settimeout({ $requested }) { $after ->
    [none] tetap tanpa timeout (None)
   *[other] menjadi { $after } s
  }.
socket-info-error = Di { $machine }, `{ $command }` tidak dapat me-resolve nama: { $error }
socket-info-no-packets-inside = Tidak ada yang melewati bridge lab: nama dicari di dalam setiap mesin (di /etc/hosts, atau oleh resolver di { $resolvers } dari /etc/resolv.conf, alamat di dalam mesin), dan socket-info tidak membuka koneksi.
socket-info-no-packets = Tidak ada yang dilakukan socket-info yang melewati bridge lab (resolver mesin: { $resolvers }).

## Satu percakapan, langkah demi langkah

walk-title = Percakapan #{ $id }: klien { $client } ke server { $server }.
walk-step = pada { $time } s { $sender } mengirim [{ $flags }] seq={ $seq }
walk-step-ack = pada { $time } s { $sender } mengirim [{ $flags }] seq={ $seq }, ack={ $ack }
walk-handshake = Three-way handshake (jabat tangan tiga langkah).
walk-syn = SYN meminta membuka koneksi; seq=0 adalah nomor urut awal klien (relatif, seperti di Wireshark).
walk-syn-ack = server setuju (SYN) dan mengakui SYN klien (ack=1 = seq klien + 1).
walk-ack = klien mengakui SYN server; koneksi terbuka. Waktu handshake: { $rtt } ms.
walk-no-handshake = Tangkapan tidak memuat handshake lengkap.
walk-data = Data (segmen PSH,ACK).
walk-more-segments = ... dan { $n } segmen data lagi (lihat summary.txt).
walk-no-data = Tidak ada data yang dikirim.
walk-data-explained = PSH meminta penerima segera menyerahkan data ke program; ACK mengakui semua byte sampai nomornya, sehingga ack tiap sisi bertambah sebanyak panjang payload sisi lain.
walk-teardown = Penutupan koneksi (teardown).
walk-still-open = Koneksi masih terbuka di akhir tangkapan.
walk-rst = RST: koneksi dibatalkan.
walk-fin = FIN: sisi ini tidak akan mengirim data lagi.
walk-last-ack = ACK terakhir: FIN sisi lain diakui; koneksi tertutup.

## The expert analysis's flags on a segment (tshark's names), in the walk-through
expert-retransmission = dikirim ulang
expert-fast-retransmission = fast retransmission: langsung dikirim ulang setelah ACK duplikat
expert-spurious-retransmission = spurious retransmission: dikirim ulang padahal sudah di-ACK
expert-out-of-order = tidak berurutan
expert-duplicate-ack = ACK duplikat
expert-lost-segment = segmen sebelum ini tidak tertangkap
expert-ack-lost-segment = meng-ACK segmen yang tidak tertangkap
expert-zero-window = window nol: penerima tidak punya ruang
expert-window-full = memenuhi window penerima
expert-window-update = pembaruan window
expert-keep-alive = keep-alive
expert-keep-alive-ack = ACK keep-alive
expert-zero-window-probe = probe window nol
expert-zero-window-probe-ack = ACK probe window nol

## report.html and the pictures
report-ladder = Percakapan sebagai diagram tangga (ladder)
report-overview = Semua percakapan dalam satu gambar
report-conversations = Semua percakapan
report-stream = Aliran byte, setiap byte sekali (seperti Follow TCP Stream di Wireshark)
report-no-stream = Tidak ada byte payload yang tertangkap dalam percakapan ini.
report-picture-failed = Gambar PNG tidak dapat dibuat: { $reason }
report-html = Laporan yang sama sebagai satu halaman yang bisa dibuka offline: [report.html](report.html).

## t3-loss: TCP over a lossy link

loss-no-link = Tidak ada link yang dibuat lossy untuk percobaan ini (impairment.json tidak ada): apa pun yang ditunjukkan capture, itu tidak disengaja.
loss-nothing-resent = TCP tidak mengirim ulang apa pun: tidak ada segmen data transfer ini yang hilang (ACK yang hilang tidak perlu dikirim ulang, jadi capture tidak bisa memastikan apakah ada paket yang hilang sama sekali).
loss-try-again = Transfer pendek bisa beruntung: jalankan lagi, atau naikkan T3_LOSS.
loss-resent = TCP mengirim ulang { $n } segmen: { $fast } sebagai fast retransmission (langsung, karena ACK duplikat memberi tahu byte-nya hilang), { $timeout } lebih lambat dari itu (retransmisi biasa menurut tshark: setelah timer retransmisi, atau saat memulihkan beberapa kehilangan sekaligus), dan { $spurious } yang tidak perlu (salinan pertama sudah sampai; yang hilang justru ACK-nya).
loss-dupacks = Penerima mengirim { $n } ACK duplikat: masing-masing mengulang nomor byte pertama yang belum diterima, sehingga pengirim tahu ada celah tanpa menunggu timer.
loss-example-fast = Contoh, pada { $time } s di percakapan #{ $conversation }: { $words } (fast: setelah ACK duplikat).
loss-example-timeout = Contoh, pada { $time } s di percakapan #{ $conversation }: { $words } (retransmisi biasa).
loss-example-timer = Contoh, pada { $time } s di percakapan #{ $conversation }: { $words } (retransmisi biasa, 200 ms atau lebih setelah aslinya: kemungkinan besar belum ada ACK untuknya dan timer retransmisi habis).
loss-example-recovery = Contoh, pada { $time } s di percakapan #{ $conversation }: { $words } (retransmisi biasa, tetapi lebih cepat daripada timer retransmisi Linux yang paling cepat 200 ms, jadi bukan karena timer: TCP mengirimnya lebih awal atas kemauannya sendiri, untuk memulihkan kehilangan yang ditunjukkan ACK, atau untuk memeriksa segmen terakhir yang hilang dengan tail loss probe).
loss-holes = Capture juga menunjukkan { $lost } segmen setelah celah (segmen sebelumnya tidak tertangkap) dan { $ooo } tidak berurutan: urutan di kabel bukan urutan aliran byte.
loss-intact = Dan file tetap tiba utuh: TCP menyembunyikan kehilangan paket dari program, yang hanya melihat byte-nya, berurutan, sekali.

## t3-flow: flow control

flow-reader = echo-client di mesin-2 membaca echo dengan lambat: 16 byte sekali baca, berhenti { $pause } s setelah tiap baca, dengan receive buffer { $buffer } byte.
flow-no-zero-window = Capture tidak menunjukkan zero window: kali ini pembaca masih sempat (file lebih besar, T3_PAUSE lebih lama atau T3_BUFFER lebih kecil akan menunjukkannya).
flow-zero-window = mesin-2 mengumumkan zero window { $n } kali: receive buffer-nya penuh, sehingga mesin-1 harus berhenti mengirim sampai program membaca sebagian isinya.
flow-example-zero = Contoh, pada { $time } s di percakapan #{ $conversation }: { $words }.
flow-window-full = { $n } segmen memenuhi window mesin-2 sampai byte terakhirnya (window full): pengirim tidak boleh mengirim lebih dari window penerima.
flow-probes = Selama window tertutup, pengirim memeriksanya { $n } kali untuk tahu kapan terbuka lagi ({ $keepalive } di antaranya satu byte sebelum nomor urut berikutnya, cara Linux memeriksa, dan karena itu tshark menyebutnya keep-alive).
flow-updates = mesin-2 mengirim { $n } window update ketika program membaca dan memberi ruang: tiap update membuka window lagi, dan pengirim melanjutkan.
flow-example-update = Contoh, pada { $time } s di percakapan #{ $conversation }: { $words }.
flow-why = Inilah flow control: penerima, bukan jaringan, yang menentukan kecepatan. Congestion control adalah rem yang lain, milik pengirim sendiri, untuk jaringan yang kehilangan paket (t3-loss).
flow-resent = Selain itu { $n } segmen dikirim ulang (kata-kata tshark untuk masing-masing ada di penjelasan langkah demi langkah di bawah).

## index.html (make scenario S=all)
index-title = Percobaan yang dijalankan di folder ini
index-none = Belum ada percobaan yang dijalankan di sini: make scenario S=all
index-run = percobaan (laporannya)
index-verdict = hasil
index-first-finding = temuan pertama
index-count = { $n } percobaan, yang terbaru lebih dulu. Setiap folder juga berisi REPORT.md, capture, dan fakta di balik setiap kalimat.
