import EspeakInit from '@echogarden/espeak-ng-emscripten';
import { readFileSync } from 'node:fs';
const dataPath = new URL('./espeak-ng.data', import.meta.resolve('@echogarden/espeak-ng-emscripten')).pathname;
const buf = readFileSync(dataPath);
const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
function run(w, text){ let n=0; w.synthesize(text,(s)=>{n+=s.length;return false;}); return n; }
const sents = ['今天天气很好，我们去公园散步吧。', '他说这个项目下周就能完成。', '我们明天早上八点在学校门口见面。','这是一个很长的句子，用来测试语音合成的速度。','请在下班之前把报告发给我。','明天会下雨吗？','我不知道他什么时候回来。','这家餐厅的菜非常好吃。'];
for (const voice of ['cmn','en-us']) for (let rep=0; rep<3; rep++) {
  let t=performance.now(); let n=0;
  for (const s of sents) { const m = await EspeakInit({ getPreloadedPackage: () => ab }); const w = new m.eSpeakNGWorker(); w.set_voice(voice); n+=run(w,s); }
  const a=performance.now()-t; t=performance.now();
  { const m = await EspeakInit({ getPreloadedPackage: () => ab }); const w = new m.eSpeakNGWorker(); w.set_voice(voice); for (const s of sents) run(w,s); }
  const b=performance.now()-t; t=performance.now();
  { const m = await EspeakInit({ getPreloadedPackage: () => ab }); const w = new m.eSpeakNGWorker(); w.set_voice(voice); run(w,sents.join('')); }
  const c=performance.now()-t;
  console.log(voice, 'audio', (n/22050).toFixed(1),'s; fresh-per-seg', a.toFixed(0), 'one-inst', b.toFixed(0), 'single call', c.toFixed(0), 'rss', (process.memoryUsage().rss/1e6).toFixed(0));
}
