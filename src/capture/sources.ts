/**
 * Video inputs as one shape: a playing <video> element plus a way to stop it. Cameras (any
 * getUserMedia device: webcam, USB or head-mounted lower-face camera, passthrough where exposed),
 * a local video file, or the built-in demo face.
 */
import { openCamera, TrackerError } from '../tracker/index.js';
import { startDemoInput } from './demo-face.js';

export interface VideoSource {
  kind: 'camera' | 'file' | 'demo';
  label: string;
  deviceId?: string;
  video: HTMLVideoElement;
  stop(): void;
}

function makeVideo(): HTMLVideoElement {
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.autoplay = true;
  return video;
}

/** Resolves once the video has a frame to read, or rejects with a message after `timeoutMs`. */
async function playing(video: HTMLVideoElement, what: string, timeoutMs = 10_000): Promise<void> {
  await video.play().catch(() => { /* autoplay policy: the readyState check below decides */ });
  const start = performance.now();
  while (video.readyState < 2 || video.videoWidth === 0) {
    if (performance.now() - start > timeoutMs) throw new Error(`${what} gave no video frame within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Video input devices; labels are empty until the user has granted camera access once. */
export async function listCameras(): Promise<{ deviceId: string; label: string }[]> {
  if (!navigator.mediaDevices?.enumerateDevices) return [];
  const devices = await navigator.mediaDevices.enumerateDevices();
  return devices
    .filter((d) => d.kind === 'videoinput')
    .map((d, i) => ({ deviceId: d.deviceId, label: d.label || `camera ${i + 1}` }));
}

/** Opens a camera (the default one when deviceId is absent). Throws TrackerError camera-denied / camera-absent. */
export async function openCameraSource(deviceId?: string): Promise<VideoSource> {
  const stream = await openCamera(deviceId ? { deviceId: { exact: deviceId }, width: 640, height: 480 } : undefined);
  const track = stream.getVideoTracks()[0];
  const video = makeVideo();
  video.srcObject = stream;
  const stop = () => { for (const t of stream.getTracks()) t.stop(); video.srcObject = null; };
  try {
    await playing(video, `camera "${track?.label ?? 'camera'}"`);
  } catch (e) {
    stop();
    throw new TrackerError('camera-absent', (e as Error).message);
  }
  return { kind: 'camera', label: track?.label || 'camera', deviceId: track?.getSettings().deviceId ?? deviceId, video, stop };
}

/** Plays a local video file on loop. */
export async function openFileSource(file: File): Promise<VideoSource> {
  const video = makeVideo();
  video.loop = true;
  const url = URL.createObjectURL(file);
  video.src = url;
  const stop = () => { video.pause(); video.removeAttribute('src'); video.load(); URL.revokeObjectURL(url); };
  const failed = new Promise<never>((_, reject) => {
    video.onerror = () => reject(new Error(`"${file.name}" cannot be played by this browser (${video.error?.message || 'unsupported format'})`));
  });
  try {
    await Promise.race([playing(video, `video file "${file.name}"`), failed]);
  } catch (e) {
    stop();
    throw e;
  }
  return { kind: 'file', label: file.name, video, stop };
}

export async function openDemoSource(): Promise<VideoSource> {
  const demo = startDemoInput();
  const video = makeVideo();
  video.srcObject = demo.stream;
  try {
    await playing(video, 'the demo input');
  } catch (e) {
    demo.stop();
    throw e;
  }
  return { kind: 'demo', label: 'demo face (built in)', video, stop: () => { demo.stop(); video.srcObject = null; } };
}
