// @vitest-environment jsdom
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { AuthState } from '../../admin-ui/src/lib/auth.svelte.ts';
import Login from '../../admin-ui/src/pages/Login.svelte';
import { FakeServer, refuse, settle } from './fake-fetch.ts';

afterEach(() => cleanup());

const admin = { id: 1, username: 'admin', displayName: '镇党委办公室', role: 'township' as const };

describe('login', () => {
  it('on a fresh server asks for the setup code printed at start, then signs in with the CSRF token kept', async () => {
    const server = new FakeServer()
      .on('GET', '/api/auth/me', refuse('UNAUTHENTICATED'))
      .on('GET', '/api/auth/state', { status: 200, body: { needsSetup: true } })
      .on('POST', '/api/auth/setup', (body) =>
        (body as { code: string }).code === 'ABC123' ? { status: 201, body: { admin, csrfToken: 'csrf-9' } } : refuse('SETUP_CODE'),
      );
    const api = server.api('');
    api.csrf = null;
    const auth = new AuthState(api);
    await auth.init();
    expect(auth.needsSetup).toBe(true);
    render(Login, { props: { auth } });
    expect(screen.getByRole('heading', { name: '首次使用：创建管理员账号' })).toBeTruthy();
    await fireEvent.input(screen.getByLabelText('初始设置码'), { target: { value: 'WRONG' } });
    await fireEvent.input(screen.getByLabelText('用户名'), { target: { value: 'admin' } });
    await fireEvent.input(screen.getByLabelText('密码'), { target: { value: 'long-password-1' } });
    await fireEvent.input(screen.getByLabelText(/再次输入密码/), { target: { value: 'long-password-1' } });
    await fireEvent.submit(screen.getByRole('button', { name: '创建并登录' }).closest('form')!);
    await settle();
    expect(screen.getByRole('alert').textContent).toContain('初始设置码不正确');
    // The passwords are cleared after a refusal; typed again with the right code it goes through.
    await fireEvent.input(screen.getByLabelText('初始设置码'), { target: { value: 'ABC123' } });
    await fireEvent.input(screen.getByLabelText('密码'), { target: { value: 'long-password-1' } });
    await fireEvent.input(screen.getByLabelText(/再次输入密码/), { target: { value: 'long-password-1' } });
    await fireEvent.submit(screen.getByRole('button', { name: '创建并登录' }).closest('form')!);
    await settle();
    expect(auth.admin).toEqual(admin);
    expect(api.csrf).toBe('csrf-9');
  });

  it('a session that ends by itself sends the page back to login, saying why', async () => {
    const server = new FakeServer().on('GET', '/api/auth/me', { status: 200, body: { admin, csrfToken: 'c' } }).on('GET', '/api/meetings', refuse('UNAUTHENTICATED'));
    const api = server.api('');
    const auth = new AuthState(api);
    await auth.init();
    expect(auth.admin).toEqual(admin);
    await api.get('/api/meetings').catch(() => {});
    expect(auth.admin).toBeNull();
    expect(auth.notice).toBe('登录已过期或已在别处退出，请重新登录。');
  });
});
