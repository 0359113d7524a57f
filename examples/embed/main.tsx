/**
 * The minimal embed: expression mirroring in an existing React Three Fiber scene. The lines that
 * matter are the import, useExpression() and <ExpressionAvatar/>; the rest is an ordinary R3F page.
 */
import { Canvas } from '@react-three/fiber';
import { useEffect, useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { DEMO_FACE_BOX, ExpressionAvatar, startDemoInput, TrackerError, useExpression, type DemoInput, type ExpressionInput } from 'halfface';

function App() {
  // The camera, or the library's built-in demo face when there is no camera or it is refused.
  const [source, setSource] = useState<ExpressionInput>('camera');
  const demo = useRef<DemoInput | null>(null);
  // The model is served by this page (see vite.config.ts): nothing comes from third-party hosts.
  const expression = useExpression({
    modelUrl: './models/halfface/model.json',
    source,
    roi: source === 'camera' ? { mode: 'full' } : { mode: 'fixed', box: DEMO_FACE_BOX, placement: 'face' },
  });
  const cameraFailed = source === 'camera' && expression.error instanceof TrackerError && (expression.error.code === 'camera-absent' || expression.error.code === 'camera-denied');
  useEffect(() => {
    if (!cameraFailed) return;
    demo.current = startDemoInput();
    setSource(demo.current.stream);
  }, [cameraFailed]);
  useEffect(() => () => demo.current?.stop(), []);

  // Only for the status line; the avatar reads expression.latest every frame without re-rendering.
  const [, tick] = useState(0);
  useEffect(() => {
    const id = setInterval(() => tick((n) => n + 1), 250);
    return () => clearInterval(id);
  }, []);

  return (
    <>
      <p id="status">
        {source === 'camera' ? '' : 'demo face (no camera) · '}
        {expression.status}
        {expression.error ? ` · ${expression.error.message}` : ''}
        {` · ${expression.frames} frames`}
        {expression.latest ? ` · ${expression.latest.label}` : ''}
      </p>
      <Canvas camera={{ position: [0, 0, 0.6], fov: 35 }}>
        <ambientLight intensity={0.7} />
        <directionalLight position={[1, 2, 3]} intensity={1.5} />
        <ExpressionAvatar expression={expression} />
      </Canvas>
    </>
  );
}

createRoot(document.getElementById('root')!).render(<App />);
