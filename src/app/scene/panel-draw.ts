/** Drawing the in-headset panel onto a canvas: large type and bars, readable at arm's length in VR. */
import { EXPRESSIONS } from '../../core/labels.js';

export interface PanelData {
  label: string | null;
  confidence: number;
  probabilities: Record<string, number> | null;
  /** the measured jaw opening 0..1 (a model with the mouth head); null hides the bar */
  jawOpen: number | null;
  input: string;
  roi: string;
  status: string;
  /** render fps, tracking rate, inference ms */
  speed: string;
  message: string | null;
}

export const PANEL_PX = { width: 1024, height: 770 };

const COLORS: Record<string, string> = {
  neutral: '#9aa5b1', happiness: '#f2c14e', surprise: '#7ec8e3', sadness: '#5b8def',
  anger: '#e4572e', disgust: '#8bbf4a', fear: '#b07cd8', contempt: '#e08db4',
};

function fit(ctx: CanvasRenderingContext2D, text: string, maxWidth: number): string {
  if (ctx.measureText(text).width <= maxWidth) return text;
  let cut = text;
  while (cut.length > 1 && ctx.measureText(cut + '…').width > maxWidth) cut = cut.slice(0, -1);
  return cut + '…';
}

export function drawPanel(ctx: CanvasRenderingContext2D, data: PanelData): void {
  const { width, height } = PANEL_PX;
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = 'rgba(18, 24, 33, 0.92)';
  ctx.beginPath();
  ctx.roundRect(0, 0, width, height, 36);
  ctx.fill();
  ctx.textBaseline = 'middle';

  ctx.fillStyle = '#ffffff';
  ctx.font = 'bold 56px system-ui, sans-serif';
  const headline = data.label ? `${data.label}  ${(data.confidence * 100).toFixed(0)}%` : 'waiting for the tracker…';
  // The jaw bar shares the headline's row, so a model without the mouth head keeps the panel as it was.
  const jawX = width - 330;
  ctx.fillText(fit(ctx, headline, (data.jawOpen === null ? width : jawX) - 80), 40, 62);
  if (data.jawOpen !== null) {
    ctx.font = '38px system-ui, sans-serif';
    ctx.fillStyle = '#c6ced8';
    ctx.fillText('jaw', jawX, 62);
    const x = jawX + 70, w = width - x - 40;
    ctx.fillStyle = 'rgba(255,255,255,0.12)';
    ctx.fillRect(x, 46, w, 32);
    ctx.fillStyle = '#f08a8a';
    ctx.fillRect(x, 46, Math.max(0, Math.min(1, data.jawOpen)) * w, 32);
  }

  const top = 116, row = 50, barX = 250, barW = width - barX - 150;
  ctx.font = '38px system-ui, sans-serif';
  EXPRESSIONS.forEach((name, i) => {
    const y = top + i * row + row / 2;
    const p = data.probabilities?.[name] ?? 0;
    ctx.fillStyle = name === data.label ? '#ffffff' : '#c6ced8';
    ctx.fillText(name, 40, y);
    ctx.fillStyle = 'rgba(255,255,255,0.12)';
    ctx.fillRect(barX, y - 16, barW, 32);
    ctx.fillStyle = COLORS[name] ?? '#ccc';
    ctx.fillRect(barX, y - 16, Math.max(0, Math.min(1, p)) * barW, 32);
    ctx.fillStyle = '#e8edf2';
    ctx.fillText(`${(p * 100).toFixed(0)}%`, barX + barW + 18, y);
  });

  ctx.font = '34px system-ui, sans-serif';
  ctx.fillStyle = '#c6ced8';
  const lines = [`input: ${data.input}`, `ROI: ${data.roi}`, data.status, data.speed];
  lines.forEach((line, i) => ctx.fillText(fit(ctx, line, width - 80), 40, top + 8 * row + 30 + i * 42));
  if (data.message) {
    ctx.fillStyle = '#ffd479';
    ctx.fillText(fit(ctx, data.message, width - 80), 40, height - 36);
  }
}

export function drawButton(ctx: CanvasRenderingContext2D, text: string, active: boolean, hover: boolean): void {
  const { width, height } = ctx.canvas;
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = active ? '#c8324a' : hover ? '#3e7bd6' : '#2a5db0';
  ctx.beginPath();
  ctx.roundRect(0, 0, width, height, height / 2);
  ctx.fill();
  ctx.fillStyle = '#ffffff';
  ctx.font = `bold ${Math.round(height * 0.42)}px system-ui, sans-serif`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.fillText(text, width / 2, height / 2);
  ctx.textAlign = 'start';
}
