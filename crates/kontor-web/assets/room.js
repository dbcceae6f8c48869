// Kontor video room: one WebRTC peer connection to the meeting partner, signalled over the
// room's WebSocket (the server relays offer/answer/ICE and stamps each message's sender).
//
// Negotiation follows the "perfect negotiation" pattern: either side may join first or reload;
// on an offer collision the polite peer (the smaller connection id) rolls back, the impolite one
// ignores the other's offer. A peer that joins says `hello`; whoever hears it starts a fresh
// connection and makes the offer.
(() => {
  'use strict';
  const root = document.getElementById('room');
  if (!root) return;
  const cfg = JSON.parse(root.dataset.config);
  const M = cfg.messages;
  const $ = (id) => document.getElementById(id);
  const statusEl = $('room-status');
  const errorEl = $('room-error');
  const remoteVideo = $('remote');
  const localVideo = $('local');

  const setStatus = (key) => {
    statusEl.textContent = M[key] || key;
    root.dataset.state = key;
  };
  const showError = (key) => {
    errorEl.textContent = M[key] || key;
    errorEl.hidden = false;
    root.dataset.error = key;
  };
  // A camera problem stays on screen until the page reloads; connection problems come and go.
  let mediaProblem = null;
  const clearError = () => {
    if (mediaProblem) {
      showError(mediaProblem);
      return;
    }
    errorEl.hidden = true;
    errorEl.textContent = '';
    delete root.dataset.error;
  };

  // ----- clocks: the partner's local time and the time left -----
  const tick = () => {
    const now = Date.now();
    document.querySelectorAll('.room-clock').forEach((el) => {
      try {
        el.textContent = new Intl.DateTimeFormat(cfg.locale, {
          hour: '2-digit', minute: '2-digit', timeZone: el.dataset.zone,
        }).format(now);
      } catch (_) { /* unknown zone: leave empty */ }
    });
    const left = Math.max(0, cfg.ends - now);
    const h = Math.floor(left / 3600000);
    const m = Math.floor(left / 60000) % 60;
    const s = Math.floor(left / 1000) % 60;
    const pad = (n) => String(n).padStart(2, '0');
    $('room-countdown').textContent = left > 0
      ? (h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`)
      : M['room-ended'];
  };
  tick();
  setInterval(tick, 1000);

  // ----- state -----
  let local = null; // camera and microphone
  let screenTrack = null; // while sharing the screen
  let pc = null;
  let me = null; // our connection id, from the server's welcome
  let partner = null; // the partner's connection id
  let partnerUser = null; // … and the person (the same after a reload or reconnect)
  let partnerRole = null; // … and whether a participant or an organiser looking in
  let ws = null;
  let closed = false; // the room closed (server said so)
  let makingOffer = false;
  let ignoreOffer = false;
  let settingRemoteAnswer = false;
  let pendingCandidates = [];
  // For diagnostics in the browser console (e.g. getStats()).
  window.kontorRoom = { get pc() { return pc; }, get partnerRole() { return partnerRole; } };

  const send = (msg) => {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  };
  const polite = () => me < partner;
  const cameraTrack = () => (local ? local.getVideoTracks()[0] : null);
  const micTrack = () => (local ? local.getAudioTracks()[0] : null);

  function newPeer() {
    if (pc) {
      pc.onicecandidate = pc.ontrack = pc.onnegotiationneeded = pc.onconnectionstatechange = null;
      pc.close();
    }
    makingOffer = false;
    ignoreOffer = false;
    settingRemoteAnswer = false;
    pendingCandidates = [];
    const peer = new RTCPeerConnection({ iceServers: cfg.ice });
    pc = peer;
    peer.onicecandidate = ({ candidate }) => {
      if (candidate) send({ type: 'candidate', to: partner, candidate });
    };
    peer.ontrack = ({ track, streams }) => {
      remoteVideo.srcObject = streams[0] || new MediaStream([track]);
    };
    peer.onnegotiationneeded = async () => {
      try {
        makingOffer = true;
        await peer.setLocalDescription();
        send({ type: 'offer', to: partner, description: peer.localDescription });
      } catch (e) {
        console.error('offer', e);
      } finally {
        makingOffer = false;
      }
    };
    peer.onconnectionstatechange = () => {
      const s = peer.connectionState;
      if (s === 'connected') {
        setStatus('room-status-connected');
        clearError();
      } else if (s === 'connecting') {
        setStatus('room-status-connecting');
      } else if (s === 'failed') {
        showError('room-error-failed');
        peer.restartIce();
      }
    };
    const video = screenTrack || cameraTrack();
    const audio = micTrack();
    if (audio) peer.addTrack(audio, local);
    else peer.addTransceiver('audio', { direction: 'recvonly' });
    if (video) peer.addTrack(video, local || new MediaStream([video]));
    else peer.addTransceiver('video', { direction: 'recvonly' });
    setStatus('room-status-connecting');
    watch(peer);
  }

  // Signalling is best effort (a message can be lost when a server's database listener
  // reconnects): a call that has not connected after a while starts over on both sides.
  // Waits 8 s, then twice as long after each attempt (at most a minute).
  let retries = 0;
  let watchdog = null;
  function watch(peer) {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => {
      if (pc !== peer || !partner) return;
      if (['connected', 'closed'].includes(peer.connectionState)) {
        retries = 0;
        return;
      }
      retries += 1;
      console.warn('no connection yet; starting over');
      send({ type: 'hello' }); // the partner starts over too, and makes an offer
      newPeer();
    }, Math.min(8000 * 2 ** retries, 60000));
  }

  async function onDescription(description) {
    const readyForOffer = !makingOffer && (pc.signalingState === 'stable' || settingRemoteAnswer);
    const collision = description.type === 'offer' && !readyForOffer;
    ignoreOffer = !polite() && collision;
    if (ignoreOffer) return;
    settingRemoteAnswer = description.type === 'answer';
    await pc.setRemoteDescription(description); // rolls back our own offer if needed
    settingRemoteAnswer = false;
    for (const c of pendingCandidates.splice(0)) {
      await pc.addIceCandidate(c).catch((e) => console.warn('candidate', e));
    }
    if (description.type === 'offer') {
      await pc.setLocalDescription();
      send({ type: 'answer', to: partner, description: pc.localDescription });
    }
  }

  async function onCandidate(candidate) {
    if (!pc.remoteDescription) {
      pendingCandidates.push(candidate); // until the description it belongs to arrives
      return;
    }
    try {
      await pc.addIceCandidate(candidate);
    } catch (e) {
      if (!ignoreOffer) console.warn('candidate', e);
    }
  }

  // Whether the sender of `msg` may not become our partner. Our partner (on any connection:
  // after a reload or reconnect) may always start over. A participant never leaves the other
  // participant for an organiser looking in, and always leaves an organiser for the other
  // participant; otherwise a connected call is not interrupted.
  const busyWithOther = (msg) => {
    if (!partnerUser || partnerUser === msg.user) return false;
    if (cfg.role === 'participant') {
      if (partnerRole === 'participant') return true;
      if (msg.role === 'participant') return false;
    }
    return !!pc && pc.connectionState === 'connected';
  };
  const takePartner = (msg) => {
    partner = msg.from;
    partnerUser = msg.user;
    partnerRole = msg.role;
    newPeer();
  };

  async function handle(msg) {
    switch (msg.type) {
      case 'welcome':
        me = msg.id;
        send({ type: 'hello' });
        if (!pc || pc.connectionState !== 'connected') setStatus('room-status-waiting');
        return;
      case 'hello':
        if (busyWithOther(msg)) return;
        takePartner(msg); // negotiationneeded: we make the offer
        return;
      case 'offer':
      case 'answer':
        if (msg.to !== me) return;
        if (msg.from !== partner) {
          if (msg.type === 'answer' || busyWithOther(msg)) return;
          takePartner(msg);
        }
        await onDescription(msg.description);
        return;
      case 'candidate':
        if (msg.to !== me || msg.from !== partner || !pc) return;
        await onCandidate(msg.candidate);
        return;
      case 'bye':
        if (msg.from !== partner) return;
        if (pc) pc.close();
        pc = null;
        partner = null;
        partnerUser = null;
        partnerRole = null;
        remoteVideo.srcObject = null;
        setStatus('room-status-left');
        send({ type: 'hello' }); // whoever is still (or next) in the room connects to us
        return;
      case 'closed':
        closeRoom();
        return;
      default:
    }
  }

  // Camera, microphone and a shared screen off (the room closed, the page goes away).
  function stopMedia() {
    if (local) local.getTracks().forEach((t) => t.stop());
    if (screenTrack) screenTrack.stop();
    local = null;
    screenTrack = null;
    localVideo.srcObject = null;
    enableToggles();
  }

  // The room is over for this page: no call, no camera, no reconnecting.
  function closeRoom() {
    closed = true;
    clearTimeout(watchdog);
    if (pc) pc.close();
    pc = null;
    remoteVideo.srcObject = null;
    stopMedia();
    setStatus('room-status-closed');
  }

  // Messages are handled one after the other: descriptions must not interleave.
  let queue = Promise.resolve();
  // Reconnecting waits 2 s, then twice as long after each failed attempt (at most 30 s); the
  // server refuses a closed room or a person no longer admitted, so past the room's end the
  // page stops trying.
  let attempts = 0;
  function connect() {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    ws = new WebSocket(`${scheme}://${location.host}${cfg.ws}`);
    ws.onmessage = (e) => {
      let msg;
      try { msg = JSON.parse(e.data); } catch (_) { return; }
      queue = queue.then(() => handle(msg)).catch((err) => console.error('signal', err));
    };
    ws.onopen = () => {
      attempts = 0;
      clearError();
    };
    ws.onclose = () => {
      if (closed) return;
      if (Date.now() >= cfg.closes) {
        closeRoom();
        return;
      }
      // Announced once (the error region is an alert), not again on every attempt.
      if (root.dataset.error !== 'room-error-signalling') showError('room-error-signalling');
      setTimeout(connect, Math.min(2000 * 2 ** attempts, 30000));
      attempts += 1;
    };
  }

  // ----- media -----
  function mediaError(e) {
    const name = e && e.name;
    if (name === 'NotAllowedError' || name === 'SecurityError') return 'room-error-blocked';
    if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'room-error-no-device';
    if (name === 'NotReadableError' || name === 'AbortError') return 'room-error-busy';
    return 'room-error-blocked';
  }

  async function openMedia() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      mediaProblem = 'room-error-insecure';
      showError(mediaProblem);
      return;
    }
    try {
      local = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    } catch (e) {
      // Try the camera or the microphone alone before giving up.
      for (const c of [{ video: true }, { audio: true }]) {
        try { local = await navigator.mediaDevices.getUserMedia(c); break; } catch (_) { /* next */ }
      }
      mediaProblem = mediaError(e);
      showError(mediaProblem);
    }
    if (local) localVideo.srcObject = local;
    enableToggles();
    await listDevices();
  }

  // Mute and camera off need a track to act on.
  function enableToggles() {
    $('room-mute').disabled = !micTrack();
    $('room-camera-off').disabled = !cameraTrack();
  }

  async function listDevices() {
    let devices = [];
    try { devices = await navigator.mediaDevices.enumerateDevices(); } catch (_) { return; }
    const fill = (select, kind, track, name) => {
      select.textContent = '';
      const current = track && track.getSettings().deviceId;
      devices.filter((d) => d.kind === kind).forEach((d, i) => {
        const o = document.createElement('option');
        o.value = d.deviceId;
        o.textContent = d.label || `${name} ${i + 1}`;
        o.selected = d.deviceId === current;
        select.append(o);
      });
      select.disabled = select.options.length === 0;
    };
    fill($('room-camera'), 'videoinput', cameraTrack(), M['room-camera']);
    fill($('room-microphone'), 'audioinput', micTrack(), M['room-microphone']);
  }

  const senderOf = (kind) => pc && pc.getSenders().find((s) => s.track && s.track.kind === kind);

  async function switchDevice(kind, deviceId) {
    const constraints = kind === 'video'
      ? { video: { deviceId: { exact: deviceId } } }
      : { audio: { deviceId: { exact: deviceId } } };
    let track;
    try {
      [track] = (await navigator.mediaDevices.getUserMedia(constraints)).getTracks();
    } catch (e) {
      showError(mediaError(e));
      return;
    }
    mediaProblem = null;
    clearError();
    if (!local) local = new MediaStream();
    const old = kind === 'video' ? cameraTrack() : micTrack();
    if (old) {
      track.enabled = old.enabled;
      local.removeTrack(old);
      old.stop();
    }
    local.addTrack(track);
    localVideo.srcObject = local;
    enableToggles();
    if (kind === 'audio' || !screenTrack) {
      const sender = senderOf(kind);
      if (sender) await sender.replaceTrack(track);
      else if (pc) pc.addTrack(track, local);
    }
  }

  $('room-camera').addEventListener('change', (e) => switchDevice('video', e.target.value));
  $('room-microphone').addEventListener('change', (e) => switchDevice('audio', e.target.value));

  const toggle = (button, on) => button.setAttribute('aria-pressed', String(on));
  $('room-mute').addEventListener('click', (e) => {
    const t = micTrack();
    if (!t) return;
    t.enabled = !t.enabled;
    toggle(e.currentTarget, !t.enabled);
  });
  $('room-camera-off').addEventListener('click', (e) => {
    const t = cameraTrack();
    if (!t) return;
    t.enabled = !t.enabled;
    toggle(e.currentTarget, !t.enabled);
  });
  const shareButton = $('room-share');
  if (!navigator.mediaDevices || !navigator.mediaDevices.getDisplayMedia) shareButton.hidden = true;
  async function stopSharing() {
    if (!screenTrack) return;
    screenTrack.onended = null;
    screenTrack.stop();
    screenTrack = null;
    const sender = senderOf('video');
    if (sender) await sender.replaceTrack(cameraTrack());
    localVideo.srcObject = local;
    toggle(shareButton, false);
  }
  shareButton.addEventListener('click', async () => {
    if (screenTrack) { await stopSharing(); return; }
    try {
      [screenTrack] = (await navigator.mediaDevices.getDisplayMedia({ video: true })).getVideoTracks();
    } catch (_) {
      return; // cancelled by the user
    }
    screenTrack.onended = stopSharing; // the browser's own "stop sharing" button
    const sender = senderOf('video');
    if (sender) await sender.replaceTrack(screenTrack);
    localVideo.srcObject = new MediaStream([screenTrack]);
    toggle(shareButton, true);
  });

  // ----- start -----
  setStatus('room-status-starting');
  openMedia().finally(connect);
  window.addEventListener('pagehide', () => {
    closed = true;
    if (ws) ws.close();
    stopMedia();
  });
})();
