import { NavLink, Outlet } from 'react-router';
import { useLogoutMutation } from '../api/http';
import { useAppSelector } from './store';
import PageBoundary from '../components/PageBoundary';
import { useSignOut } from '../features/auth/useSignOut';

export default function AppShell() {
  const user = useAppSelector((s) => s.auth.user);
  const signOut = useSignOut();
  const [logout, { isLoading }] = useLogoutMutation();

  const onLogout = async () => {
    try {
      await logout().unwrap();
    } catch {
      /* the session is dropped here whatever the server says */
    }
    signOut();
  };

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <NavLink to="/swarms" className="brand" aria-label="AGA Swarm home">
          <svg width="22" height="22" viewBox="0 0 16 16" aria-hidden="true">
            <path d="M8 4 3 12M8 4l5 8" stroke="#94a3b8" strokeWidth="1.2" />
            <circle cx="8" cy="4" r="2.6" fill="#2563eb" />
            <circle cx="3" cy="12" r="2.6" fill="#16a34a" />
            <circle cx="13" cy="12" r="2.6" fill="#f59e0b" />
          </svg>
          <span>AGA Swarm</span>
        </NavLink>
        {user ? (
          <>
            <nav aria-label="Main" className="main-nav">
              <NavLink to="/swarms" end>
                Swarms
              </NavLink>
            </nav>
            <div className="user-box">
              <span className="user-name" data-testid="current-user">
                <span className="visually-hidden">Signed in as </span>
                {user.username}
              </span>
              <NavLink to="/account">Account</NavLink>
              <button type="button" onClick={onLogout} disabled={isLoading}>
                Log out
              </button>
            </div>
          </>
        ) : null}
      </header>
      <main id="main" tabIndex={-1}>
        <PageBoundary what="page">
          <Outlet />
        </PageBoundary>
      </main>
    </div>
  );
}
