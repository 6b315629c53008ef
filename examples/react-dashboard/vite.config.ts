import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `npm run dev` and `npm run preview` pass /graphql, HTTP and WebSocket, to the gateway
// (`npm start` at the repository root listens on :4000), so the page and the gateway share an
// origin: no CORS, and the WebSocket goes where the queries go.
const gateway = { target: 'http://localhost:4000', ws: true };

export default defineConfig({
  plugins: [react()],
  server: { proxy: { '/graphql': gateway } },
  preview: { proxy: { '/graphql': gateway } },
});
